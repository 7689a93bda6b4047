#!/usr/bin/env python3
"""QEMU's own Python QMP client (`pip install qemu.qmp`) against hemu.

Usage: qemu_qmp_client.py HEMU_BINARY

Starts `hemu -M virt` on a guest that spins forever with a QMP unix
socket, then drives it with `qemu.qmp.QMPClient` (the asyncio client QEMU's
own tests use) and with `qmp-shell` fed from a pipe, in QMP and in HMP
(-H) mode. Exits 0 when every check passes; prints SKIPPED and exits 77
when qemu.qmp is not installed.
"""

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time

try:
    from qemu.qmp import QMPClient, ExecuteError
except ImportError:
    print("SKIPPED: qemu.qmp is not installed (pip install qemu.qmp)")
    sys.exit(77)

CHECKS = 0


def check(cond, what):
    global CHECKS
    if not cond:
        raise AssertionError(what)
    CHECKS += 1


async def event(qmp, name, timeout=10):
    while True:
        ev = await asyncio.wait_for(qmp.events.get(), timeout)
        if ev["event"] == name:
            return ev


async def drive(sock):
    qmp = QMPClient("hemu-test")
    await qmp.connect(sock)
    v = qmp.greeting.QMP.version["qemu"]
    check((v["major"], v["minor"]) == (7, 2), f"greeting version {v}")

    st = await qmp.execute("query-status")
    check(st["status"] == "running" and st["running"] is True, f"query-status {st}")

    cpus = await qmp.execute("query-cpus-fast")
    check(len(cpus) == 2, f"query-cpus-fast {cpus}")
    check(cpus[1]["qom-path"] == "/machine/cpus/cpu1", f"qom-path {cpus[1]}")
    check(cpus[0]["target"].startswith("riscv"), f"target {cpus[0]}")

    names = {e["name"]: e["type"] for e in await qmp.execute("qom-list", {"path": "/machine"})}
    check(names.get("uart0") == "child<ns16550a>", f"qom-list {names}")
    check(names.get("cpus") == "child<cpu-cluster>", f"qom-list {names}")
    base = await qmp.execute("qom-get", {"path": "/machine/uart0", "property": "base"})
    check(base == 0x10000000, f"qom-get base {base}")
    realized = await qmp.execute("qom-get", {"path": "/machine/uart0", "property": "realized"})
    check(realized is True, f"qom-get realized {realized}")

    # Objects and hot-plug with an interrupt line, as QEMU's client sends them.
    await qmp.execute("object-add", {"qom-type": "memory-backend-ram", "id": "mem0",
                                     "size": 1 << 20})
    size = await qmp.execute("qom-get", {"path": "/objects/mem0", "property": "size"})
    check(size == 1 << 20, f"object size {size}")
    try:
        await qmp.execute("object-add", {"qom-type": "memory-backend-ram", "id": "mem0",
                                         "size": 4096})
        check(False, "a duplicate object id must fail")
    except ExecuteError as e:
        check(e.error.error.class_ == "GenericError", f"error class {e.error.error.class_}")
    await qmp.execute("object-del", {"id": "mem0"})
    await qmp.execute("device_add", {"driver": "ns16550a", "id": "uart1", "addr": 0x10001000,
                                     "chardev": "none", "irq": 12})
    link = await qmp.execute("qom-get", {"path": "uart1", "property": "sysbus-irq[0]"})
    check(link == "/machine/plic/irq-in[12]", f"irq link {link}")
    await qmp.execute("device_del", {"id": "uart1"})
    await event(qmp, "DEVICE_DELETED")

    await qmp.execute("stop")
    await event(qmp, "STOP")
    st = await qmp.execute("query-status")
    check(st["status"] == "paused" and st["running"] is False, f"after stop {st}")
    await qmp.execute("cont")
    await event(qmp, "RESUME")
    st = await qmp.execute("query-status")
    check(st["status"] == "running", f"after cont {st}")

    try:
        await qmp.execute("no-such-command")
        check(False, "an unknown command must fail")
    except ExecuteError as e:
        check(e.error.error.class_ == "CommandNotFound", f"error class {e.error.error.class_}")

    regs = await qmp.execute("human-monitor-command", {"command-line": "info registers"})
    check(" pc       " in regs and "x1/ra" in regs, f"info registers {regs!r}")
    await qmp.disconnect()


async def quit(sock):
    qmp = QMPClient("hemu-quit")
    await qmp.connect(sock)
    check(await qmp.execute("quit") == {}, "quit returns {}")
    ev = await event(qmp, "SHUTDOWN")
    check(ev["data"] == {"guest": False, "reason": "host-qmp-quit"}, f"SHUTDOWN {ev}")
    try:
        await qmp.disconnect()
    except Exception:  # hemu has gone: the connection ended under us
        pass


def shell(sock, lines, hmp=False):
    exe = shutil.which("qmp-shell")
    cmd = [exe] if exe else [sys.executable, "-m", "qemu.qmp.qmp_shell"]
    if hmp:
        cmd.append("-H")
    cmd.append(sock)
    r = subprocess.run(cmd, input="".join(l + "\n" for l in lines),
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 0, f"qmp-shell exit {r.returncode}: {r.stderr}")
    return r.stdout


def main():
    hemu = sys.argv[1]
    with tempfile.TemporaryDirectory(prefix="hemu-qemu-qmp-") as d:
        spin = os.path.join(d, "spin.bin")
        with open(spin, "wb") as f:
            f.write((0x6F).to_bytes(4, "little"))  # j .
        sock = os.path.join(d, "qmp.sock")
        proc = subprocess.Popen(
            [hemu, "-M", "virt", "-smp", "2", "-kernel", spin, "-serial", "null",
             "-qmp", f"unix:{sock},server,wait=off"],
            stdin=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            for _ in range(500):
                if os.path.exists(sock):
                    break
                time.sleep(0.02)
            asyncio.run(drive(sock))

            out = shell(sock, ["query-status", "qom-list path=/machine/cpus"])
            check("Connected to QEMU 7.2.0" in out, f"qmp-shell banner: {out}")
            check("'status': 'running'" in out or '"status": "running"' in out,
                  f"qmp-shell query-status: {out}")
            check("cpu1" in out, f"qmp-shell qom-list: {out}")

            out = shell(sock, ["info status", "info cpus"], hmp=True)
            check("VM status: running" in out, f"qmp-shell -H: {out}")
            check("CPU #1" in out, f"qmp-shell -H info cpus: {out}")

            asyncio.run(quit(sock))
            check(proc.wait(timeout=30) == 0, "hemu exits 0 after quit")
            err = proc.stderr.read().decode()
            check("panicked" not in err, err)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    print(f"qemu.qmp: {CHECKS} checks passed")


if __name__ == "__main__":
    main()
