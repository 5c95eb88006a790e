#!/usr/bin/env python3
"""Bytes the console writes to its terminal per keystroke, through a real pseudo-terminal.

Runs `incident open CASE` under a pty of COLS x ROWS (default 120x40, TERM=xterm-256color,
UTF-8 locale, rescans disabled so only the key's redraw is counted), waits for the first frame,
then presses each measured key REPEAT times and counts the bytes written after each press
until the output has been quiet for 0.3 s.

Usage: Benchmarks/tty-bytes.py [--binary .build/debug/incident] [--case DIR] [--cols 120]
       [--rows 40] [--repeat 10] [--term xterm-256color]
Without --case a fresh copy of the demo case is made (`incident demo --no-open`).
Prints one line per measurement: name, presses, min / median / max bytes per press.
"""
import argparse, fcntl, os, pty, select, statistics, struct, subprocess, sys, tempfile, termios, time

def read_quiet(fd, quiet=0.3, limit=10.0):
    """Reads from fd until nothing arrives for `quiet` seconds; returns the bytes."""
    out = b""
    deadline = time.time() + limit
    while time.time() < deadline:
        r, _, _ = select.select([fd], [], [], quiet)
        if not r:
            break
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    return out

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", default=os.path.join(os.path.dirname(__file__), "..", ".build", "debug", "incident"))
    ap.add_argument("--case")
    ap.add_argument("--cols", type=int, default=120)
    ap.add_argument("--rows", type=int, default=40)
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--term", default="xterm-256color")
    a = ap.parse_args()
    binary = os.path.abspath(a.binary)
    case = a.case
    if not case:
        case = os.path.join(tempfile.mkdtemp(prefix="tty-bytes-"), "case")
        subprocess.run([binary, "demo", "--dir", case, "--no-open"], check=True, stdout=subprocess.DEVNULL)
    env = dict(os.environ, TERM=a.term, LANG="C.UTF-8", LC_ALL="C.UTF-8")
    env.pop("NO_COLOR", None)
    pid, fd = pty.fork()
    if pid == 0:
        fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", a.rows, a.cols, 0, 0))
        os.execve(binary, [binary, "open", case, "--interval", "3600"], env)
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", a.rows, a.cols, 0, 0))
    first = read_quiet(fd, quiet=1.5, limit=30)
    print(f"first frame: {len(first)} bytes ({a.cols}x{a.rows}, TERM={a.term})")

    def press(keys, name):
        sizes = []
        for i in range(a.repeat):
            key = keys[i % len(keys)]
            os.write(fd, key)
            sizes.append(len(read_quiet(fd)))
        print(f"{name:<40} presses {len(sizes):3d}  min {min(sizes):5d}  median {int(statistics.median(sizes)):5d}  max {max(sizes):5d} bytes")
        return sizes

    results = {}
    results["servers"] = press([b"j", b"k"], "servers pane: j/k (one row)")
    os.write(fd, b"\t"); read_quiet(fd)
    results["hits"] = press([b"j"], "hits pane: j (one row down)")
    os.write(fd, b"\t"); read_quiet(fd)
    results["checklist"] = press([b"j"], "checklist pane: j (one row down)")
    os.write(fd, b"q")
    read_quiet(fd, quiet=0.5)
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass
    worst = max(max(v) for v in results.values())
    print(f"worst single press: {worst} bytes (target: at most 200)")
    return 0 if worst <= 200 else 1

if __name__ == "__main__":
    sys.exit(main())
