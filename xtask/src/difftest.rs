pub fn run(_root: &std::path::Path, _args: &[String]) -> Result<(), String> {
    Err("todo".into())
}
