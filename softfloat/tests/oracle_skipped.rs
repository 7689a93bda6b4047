//! Says, rather than silently passing, that the oracle comparison did not
//! run: it needs `--features oracle` (Berkeley SoftFloat, built with cmake).

#[cfg(not(feature = "oracle"))]
#[test]
fn oracle_comparison_skipped() {
    println!(
        "SKIPPED: softfloat oracle comparison (run `cargo test -p hemu-softfloat --features oracle`; needs cmake)"
    );
}
