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
        """Per press: the bytes of the move itself (the list rows, written at once), then the
        bytes of the panes that follow the selection (written when it settles, 150 ms later)."""
        moves, follows = [], []
        for i in range(a.repeat):
            key = keys[i % len(keys)]
            os.write(fd, key)
            moves.append(len(read_quiet(fd, quiet=0.08)))
            follows.append(len(read_quiet(fd, quiet=0.5)))
        for label, sizes in (("move", moves), ("then, settled", follows)):
            print(f"{name + ' ' + label:<52} presses {len(sizes):3d}  min {min(sizes):5d}  median {int(statistics.median(sizes)):5d}  max {max(sizes):5d} bytes")
        return moves

    def burst(key, count, name):
        """A held-down key: `count` presses 20 ms apart, then everything until quiet."""
        total = 0
        for _ in range(count):
            os.write(fd, key)
            total += len(read_quiet(fd, quiet=0.02, limit=0.05))
        total += len(read_quiet(fd, quiet=0.5))
        print(f"{name:<52} {count} presses, {total} bytes in all ({total // count} per press)")

    results = {}
    results["servers"] = press([b"j", b"k"], "servers pane: j/k")
    os.write(fd, b"\t"); read_quiet(fd, quiet=0.5)
    results["hits"] = press([b"j"], "hits pane: j")
    burst(b"j", 20, "hits pane: j held down")
    os.write(fd, b"\t"); read_quiet(fd, quiet=0.5)
    results["checklist"] = press([b"j", b"k"], "checklist pane: j/k")
    os.write(fd, b"q")
    read_quiet(fd, quiet=0.5)
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass
    moves = [n for v in results.values() for n in v if n > 0]
    over = [n for n in moves if n > 200]
    print(f"moves: {len(moves)}, at most 200 bytes: {len(moves) - len(over)}, over: {len(over)} "
          f"(page turns: the list window jumps half a page) — worst {max(moves)} bytes")
    return 0

if __name__ == "__main__":
    sys.exit(main())
