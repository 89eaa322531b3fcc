"""Publisher fan-out benchmark: change event on Kafka → SSE clients and webhook receivers, p50/p99 latency.

`make bench-publisher` (`python -m bench.publisher`) starts its own publisher (`nof-publisher`) on a spare
port with its own Redis key prefix and consumer group, opens 1,000 SSE clients (aiohttp streaming, asyncio) and 200
webhook subscriptions to one local aiohttp receiver (200 paths), then produces ChangeEvents for a league
of its own to `nof.changes.v1` at a steady rate. Latency = receipt time minus produce time, both taken in
this process. Baseline in the same run: raw Redis XADD → blocked XREAD, and Kafka produce → consume.
Results replace the ``## Publisher`` section of docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import os
import platform
import re
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import aiohttp
import httpx
import redis.asyncio as aioredis
from aiohttp import web
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from services.publisher.auth import sha256_hex
from shared.events import Cause, ChangeEvent
from shared.settings import CommonSettings
from shared.topics import CHANGES

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "BENCHMARKS.md"
SECTION = "## Publisher"
ID = re.compile(rb'"id":"(evt_[0-9a-f]+)"')


def spare_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}"


class Meter:
    """Produce times by event id, and receipt latencies by channel."""

    def __init__(self) -> None:
        self.sent: dict[bytes, float] = {}
        self.latency: dict[str, list[float]] = {"sse": [], "webhook": []}
        self.counts: dict[str, int] = {"sse": 0, "webhook": 0}

    def seen(self, channel: str, body: bytes) -> None:
        m = ID.search(body)
        if m and (t := self.sent.get(m.group(1))) is not None:
            self.latency[channel].append(time.perf_counter() - t)
            self.counts[channel] += 1


async def receivers(meter: Meter, paths: int) -> tuple[web.AppRunner, str]:
    async def handle(request: web.Request) -> web.Response:
        meter.seen("webhook", await request.read())
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hook/{n}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = spare_port()
    await web.TCPSite(runner, "127.0.0.1", port, backlog=4096).start()
    return runner, f"http://127.0.0.1:{port}"


async def sse_client(session: aiohttp.ClientSession, url: str, meter: Meter, connected: list[int]) -> None:
    async with session.get(url) as response:
        connected[0] += 1
        async for line in response.content:
            if line.startswith(b"data:"):
                meter.seen("sse", line)


def change(league: str, version: int) -> ChangeEvent:
    eid = f"evt_{uuid.uuid4().hex}"
    return ChangeEvent(event_id=eid, type="rank.changed", league=league, league_version=version,
                       methodology_version="bench", trust_code="R0A", old={"rank": 5, "unadjusted_rank": 5},
                       new={"rank": 4, "unadjusted_rank": 4},
                       cause=Cause(kind="observation", input_id=f"obs-{version}", trust_code="R0A", own_data=True))


async def redis_baseline(url: str, prefix: str, samples: int) -> list[float]:
    writer, reader = aioredis.from_url(url), aioredis.from_url(url)
    key, out = f"{prefix}:baseline", []
    try:
        for _ in range(samples):
            last = (await writer.xrevrange(key, count=1) or [(b"0-0", None)])[0][0]
            task = asyncio.create_task(reader.xread({key: last}, block=5000))
            await asyncio.sleep(0.005)
            start = time.perf_counter()
            await writer.xadd(key, {"x": b"1"}, maxlen=1000)
            await task
            out.append(time.perf_counter() - start)
        await writer.delete(key)
    finally:
        await writer.aclose()
        await reader.aclose()
    return out


async def kafka_baseline(bootstrap: list[str], samples: int) -> list[float]:
    """Produce → consume of valid ChangeEvents for a baseline-only league (other readers may see them)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=0)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await producer.start()
    await consumer.start()
    out = []
    try:
        league = f"bench-baseline-{uuid.uuid4().hex[:8]}"
        key = league.encode()
        meta = await producer.send_and_wait(CHANGES.name, change(league, 0).to_bytes(), key=key)
        tp = TopicPartition(CHANGES.name, meta.partition)
        consumer.assign([tp])
        consumer.seek(tp, meta.offset + 1)
        for i in range(samples):
            start = time.perf_counter()
            await producer.send_and_wait(CHANGES.name, change(league, i + 1).to_bytes(), key=key)
            got = False
            while not got:
                for records in (await consumer.getmany(tp, timeout_ms=1000)).values():
                    got = got or any(r.key == key for r in records)
            out.append(time.perf_counter() - start)
    finally:
        await consumer.stop()
        await producer.stop()
    return out


async def wait_healthy(base: str, proc: subprocess.Popen) -> None:
    async with httpx.AsyncClient() as c:
        for _ in range(200):
            if proc.poll() is not None:
                raise SystemExit(f"publisher exited with {proc.returncode}")
            try:
                if (await c.get(base + "/healthz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit("publisher did not become healthy")


async def run(args: argparse.Namespace) -> dict:
    common = CommonSettings()
    prefix, league = f"nof-bench-{uuid.uuid4().hex[:8]}", f"bench-{uuid.uuid4().hex[:8]}"
    token, port = uuid.uuid4().hex, spare_port()
    base = f"http://127.0.0.1:{port}"
    env = {**os.environ, "NOF_ENVIRONMENT": os.environ.get("NOF_ENVIRONMENT", "development"),
           "NOF_PUBLISHER_PORT": str(port), "NOF_REDIS_KEY_PREFIX": prefix,
           "NOF_PUBLISHER_ADMIN_TOKEN_SHA256": sha256_hex(token), "NOF_PUBLISHER_WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
           "NOF_PUBLISHER_CONSUMER_GROUP": f"nof-bench-{uuid.uuid4().hex[:8]}",
           "NOF_PUBLISHER_CONSUMER_OFFSET_RESET": "latest", "NOF_PUBLISHER_PUBLIC_TOPIC_ENABLED": "false",
           # every benchmark client connects from this machine's one address
           "NOF_PUBLISHER_SSE_MAX_CLIENTS_PER_ADDRESS": str(max(args.sse, 1)),
           "NOF_LOG_LEVEL": "WARNING"}
    meter = Meter()
    load_before = os.getloadavg()[0]
    baseline_redis = await redis_baseline(common.redis.url, prefix, 200)
    baseline_kafka = await kafka_baseline(common.kafka.bootstrap_list, 100)
    runner, rx = await receivers(meter, args.webhooks)
    proc = subprocess.Popen([sys.executable, "-m", "services.publisher.main"], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=open(ROOT / ".local" / "logs" / "bench-publisher.log", "w"))
    sse = aiohttp.ClientSession(base, connector=aiohttp.TCPConnector(limit=0), timeout=aiohttp.ClientTimeout(total=None),
                                read_bufsize=2**16)
    producer = AIOKafkaProducer(bootstrap_servers=common.kafka.bootstrap_list, linger_ms=0)
    tasks: list[asyncio.Task] = []
    try:
        await wait_healthy(base, proc)
        async with httpx.AsyncClient(base_url=base, headers={"Authorization": f"Bearer {token}"}) as admin:
            for n in range(args.webhooks):
                r = await admin.post("/v1/subscriptions", json={"url": f"{rx}/hook/{n}", "filters": {"leagues": [league]}})
                r.raise_for_status()
        connected = [0]
        for i in range(args.sse):
            tasks.append(asyncio.create_task(sse_client(sse, f"/v1/stream?league={league}", meter, connected)))
            if i % 100 == 99:
                await asyncio.sleep(0.05)
        for _ in range(300):
            if connected[0] >= args.sse:
                break
            await asyncio.sleep(0.1)
        await producer.start()
        # Warm-up: wait until the consumer group is assigned and everything flows end to end.
        version = 1
        for _ in range(60):
            e = change(league, version)
            meter.sent[e.event_id.encode()] = time.perf_counter()
            await producer.send_and_wait(CHANGES.name, e.to_bytes(), key=league.encode())
            version += 1
            await asyncio.sleep(1.0)
            if meter.counts["sse"] >= args.sse and meter.counts["webhook"] >= args.webhooks:
                break
        await asyncio.sleep(3)
        meter.latency = {"sse": [], "webhook": []}
        meter.counts = {"sse": 0, "webhook": 0}
        interval = 1.0 / args.rate
        started = time.perf_counter()
        for i in range(args.events):
            e = change(league, version)
            version += 1
            meter.sent[e.event_id.encode()] = time.perf_counter()
            await producer.send(CHANGES.name, e.to_bytes(), key=league.encode())
            await asyncio.sleep(max(0.0, started + (i + 1) * interval - time.perf_counter()))
        expect = {"sse": args.events * args.sse, "webhook": args.events * args.webhooks}
        for _ in range(300):
            if all(meter.counts[k] >= v for k, v in expect.items()):
                break
            await asyncio.sleep(0.1)
        return {"prefix": prefix, "events": args.events, "rate": args.rate, "sse": args.sse, "webhooks": args.webhooks,
                "expect": expect, "counts": dict(meter.counts), "latency": meter.latency,
                "baseline_redis": baseline_redis, "baseline_kafka": baseline_kafka, "connected": connected[0],
                "load": (load_before, os.getloadavg()[0])}
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await sse.close()
        await producer.stop()
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        await runner.cleanup()
        client = aioredis.from_url(common.redis.url)
        keys = [k async for k in client.scan_iter(match=f"{prefix}:*", count=1000)]
        if keys:
            await client.delete(*keys)
        await client.aclose()


def ms(v: float) -> str:
    return f"{v * 1000:.1f}"


def report(r: dict) -> str:
    rows = []
    all_lat = r["latency"]["sse"] + r["latency"]["webhook"]
    for name, values, count in (("SSE (1 event → each client)", r["latency"]["sse"], f"{r['counts']['sse']:,} / {r['expect']['sse']:,}"),
                                ("Webhook (1 event → each subscriber)", r["latency"]["webhook"], f"{r['counts']['webhook']:,} / {r['expect']['webhook']:,}"),
                                ("All deliveries", all_lat, f"{len(all_lat):,}"),
                                ("Baseline: Redis XADD → blocked XREAD", r["baseline_redis"], f"{len(r['baseline_redis'])}"),
                                ("Baseline: Kafka produce → consume", r["baseline_kafka"], f"{len(r['baseline_kafka'])}")):
        rows.append(f"| {name} | {ms(pct(values, 50))} | {ms(pct(values, 99))} | {ms(max(values) if values else float('nan'))} | {count} |")
    p99 = pct(all_lat, 99)
    met = "met" if p99 < 0.25 else "missed"
    today = dt.date.today().isoformat()
    return "\n".join([
        f"`make bench-publisher` (`python -m bench.publisher`) on {machine()}, {today}. One publisher process "
        f"(`nof-publisher`, its own Redis prefix and consumer group) with {r['connected']:,} concurrent SSE clients "
        f"and {r['webhooks']} webhook subscriptions (one local aiohttp receiver, {r['webhooks']} paths), all in one "
        f"benchmark process on the same machine as Kafka and Redis. {r['events']} ChangeEvents produced to "
        f"`nof.changes.v1` at {r['rate']:g}/s; latency = receipt in the benchmark process minus produce time "
        "(one clock), so it includes Kafka, the consumer, the Redis stream, fan-out and HTTP.",
        "",
        "| path | p50 ms | p99 ms | max ms | deliveries |",
        "|---|---:|---:|---:|---:|",
        *rows,
        "",
        f"Target p99 under 250 ms for change → delivery: {ms(p99)} ms ({met}).",
        "",
        "- The public Kafka topic relay is off in this run (it is one more reader of the same stream).",
        f"- Clients, receivers and the publisher share {os.cpu_count()} CPUs with Kafka, Redis and whatever else runs "
        f"(1-minute load average {r['load'][0]:.2f} before, {r['load'][1]:.2f} after the run), so the numbers include "
        "contention; the baselines show the floor the infrastructure alone sets.",
        "- Webhook deliveries use aiohttp in the publisher: httpx measured ~2.4 ms CPU per POST against ~0.09 ms "
        "for aiohttp on this machine, which at 1,000 POST/s decided it.",
        "- Measured 2026-11-30 on a 2-vCPU AMD EPYC machine: at this load the publisher process is CPU-bound (about "
        "95% of one core), so deliveries queue and latency grows through the run. The 250 ms target was met on "
        "2026-11-26 on an Intel Xeon machine (p99 212 ms); that day's code gives p99 2.8-3.1 s on this one. Two Redis "
        "round trips per webhook delivery added since (the subscription's status read on every success, and the "
        "log's oldest position read before every batch) had taken it to 6.9-9.6 s. A success now reads the status "
        "once per lease and after a failure, and the oldest position is read only when the hub's memory does not "
        "hold what follows the cursor.",
    ])


def write_section(body: str) -> None:
    text = DOC.read_text() if DOC.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"^{re.escape(SECTION)}\n.*?(?=^## |\Z)", re.M | re.S)
    section = f"{SECTION}\n\n{body}\n\n"
    text = pattern.sub(lambda _: section, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + section
    DOC.write_text(text.rstrip("\n") + "\n")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sse", type=int, default=1000)
    p.add_argument("--webhooks", type=int, default=200)
    p.add_argument("--events", type=int, default=100)
    p.add_argument("--rate", type=float, default=5.0, help="change events per second")
    p.add_argument("--no-write", action="store_true")
    args = p.parse_args(argv)
    result = asyncio.run(run(args))
    body = report(result)
    print(body)
    if not args.no_write and result["counts"]["sse"] and result["counts"]["webhook"]:
        write_section(body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
