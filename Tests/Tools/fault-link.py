#!/usr/bin/env python3
"""A network link with faults, in user space, between two network namespaces.

This machine's kernel has no netem, so the faults are made here: two TUN devices, one in each
namespace, and this process between them. Every IP packet one side sends comes out of its TUN
device into this process, which delays it (with jitter), drops, duplicates or reorders it, and
writes it into the other side's TUN device. Each direction is faulted on its own, so the round
trip is twice --delay-ms.

    fault-link.py --name ct1 --delay-ms 50 --jitter-ms 10 --loss 0.1

makes namespaces ct1-a (10.201.N.1) and ct1-b (10.201.N.2), prints one line "ready A B" with their
addresses, and forwards until SIGTERM or SIGINT, when it removes both namespaces. Run a program
on either side with `ip netns exec ct1-a PROGRAM`. To cut the link, set a device down:
`ip netns exec ct1-b ip link set ct1-b down` (and up again, then restore the address route with
`ip netns exec ct1-b ip route replace 10.201.N.0/24 dev ct1-b`); this tool keeps running.
On exit it prints one line of counts: packets forwarded, dropped, duplicated, reordered.
Needs root (namespaces, TUN devices); exits 77 when it cannot make them.
"""
import argparse
import fcntl
import heapq
import os
import random
import select
import signal
import struct
import subprocess
import sys
import time

TUNSETIFF = 0x400454CA
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000


def run(*command):
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def open_tun(name):
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    return fd


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--name", required=True, help="prefix of the namespaces and devices, at most 10 characters")
    parser.add_argument("--subnet", type=int, default=None, help="N of 10.201.N.0/24 (default: from the process id)")
    parser.add_argument("--delay-ms", type=float, default=0, help="one-way delay")
    parser.add_argument("--jitter-ms", type=float, default=0, help="uniform jitter, +/- this much")
    parser.add_argument("--loss", type=float, default=0, help="fraction of packets dropped")
    parser.add_argument("--duplicate", type=float, default=0, help="fraction of packets sent twice")
    parser.add_argument("--reorder", type=float, default=0,
                        help="fraction of packets held back an extra delay (or 10 ms), so later ones overtake them")
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args()
    if len(options.name) > 10:
        parser.error("--name must be at most 10 characters")
    subnet = options.subnet if options.subnet is not None else 1 + os.getpid() % 250
    random.seed(options.seed)

    sides = [(f"{options.name}-a", f"10.201.{subnet}.1"), (f"{options.name}-b", f"10.201.{subnet}.2")]
    made = []

    def cleanup(*_):
        for namespace, _ in sides:
            if namespace in made:
                subprocess.run(["ip", "netns", "del", namespace], stderr=subprocess.DEVNULL)
        print(f"counts forwarded={counts['forwarded']} dropped={counts['dropped']} "
              f"duplicated={counts['duplicated']} reordered={counts['reordered']}", flush=True)
        os._exit(0)

    counts = {"forwarded": 0, "dropped": 0, "duplicated": 0, "reordered": 0}
    devices = []
    try:
        for namespace, address in sides:
            subprocess.run(["ip", "netns", "del", namespace], stderr=subprocess.DEVNULL)
            run("ip", "netns", "add", namespace)
            made.append(namespace)
            fd = open_tun(namespace)
            run("ip", "link", "set", namespace, "netns", namespace)
            run("ip", "-n", namespace, "link", "set", "lo", "up")
            run("ip", "-n", namespace, "addr", "add", f"{address}/24", "dev", namespace)
            run("ip", "-n", namespace, "link", "set", namespace, "up")
            devices.append(fd)
    except (OSError, subprocess.CalledProcessError) as error:
        detail = error.stderr.decode().strip() if isinstance(error, subprocess.CalledProcessError) else str(error)
        for namespace in made:
            subprocess.run(["ip", "netns", "del", namespace], stderr=subprocess.DEVNULL)
        print(f"fault-link: cannot make namespaces and TUN devices: {detail}", file=sys.stderr, flush=True)
        sys.exit(77)

    signal.signal(signal.SIGTERM, cleanup)
    signal.signal(signal.SIGINT, cleanup)
    # A parent may have started us with these blocked (a test runner's thread): take them.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])
    print(f"ready {sides[0][1]} {sides[1][1]}", flush=True)

    # Packets waiting for their time: (due, sequence, target fd, bytes).
    pending = []
    sequence = 0

    def schedule(target, packet, extra=0.0):
        nonlocal sequence
        jitter = random.uniform(-options.jitter_ms, options.jitter_ms) if options.jitter_ms else 0
        due = time.monotonic() + max(0.0, options.delay_ms + jitter) / 1000 + extra
        sequence += 1
        heapq.heappush(pending, (due, sequence, target, packet))

    while True:
        timeout = max(0.0, pending[0][0] - time.monotonic()) if pending else 1.0
        readable, _, _ = select.select(devices, [], [], timeout)
        for source in readable:
            target = devices[1] if source == devices[0] else devices[0]
            while True:
                try:
                    packet = os.read(source, 65536)
                except BlockingIOError:
                    break
                except OSError:  # the device is down: nothing to read until it is up again
                    break
                if random.random() < options.loss:
                    counts["dropped"] += 1
                    continue
                extra = 0.0
                if random.random() < options.reorder:
                    counts["reordered"] += 1
                    extra = max(options.delay_ms / 1000, 0.010)
                schedule(target, packet, extra)
                if random.random() < options.duplicate:
                    counts["duplicated"] += 1
                    schedule(target, packet, extra)
        now = time.monotonic()
        while pending and pending[0][0] <= now:
            _, _, target, packet = heapq.heappop(pending)
            try:
                os.write(target, packet)
                counts["forwarded"] += 1
            except OSError:  # the far side is down: the packet is lost, as on a cut cable
                counts["dropped"] += 1


if __name__ == "__main__":
    main()
