"""Read API over the Redis read model: leagues, a league table with ETag/304, a trust with history, 404s."""

import httpx

from tests.integration.publisher.publisher_live import running, settings_for

ENTRY = {"trust_code": "RAA", "trust_name": "A TRUST", "region": "London", "subtype": "", "rank": 1,
         "unadjusted_rank": 1, "segment": 2, "raw_segment": 2, "capped": False, "average": "2.20",
         "average_range": ["2.10", "2.30"], "rank_range": [1, 3], "in_deficit": False, "intensive_support": False,
         "scored_metrics": 20, "applicable_metrics": 22, "distance_to_next_segment": "0.10", "updated_at": "2026-01-05T09:00:00Z"}


async def test_read_api(cache, prefix, tmp_path):
    snapshot = {"league": "acute", "version": 7, "methodology_version": "v1", "updated_at": "2026-01-05T09:00:00Z",
                "entries": [ENTRY]}
    await cache.write_league("acute", 7, snapshot, {"RAA": {"trust_code": "RAA", "league": "acute", "version": 7,
                                                            "metrics": [{"metric_id": "M1", "value": 1.0}]}})
    await cache.append_history([("RAA", {"type": "segment.changed", "league_version": 7, "old": {"segment": 3},
                                         "new": {"segment": 2}, "at": "2026-01-05T09:00:00Z"})])
    async with running(settings_for(prefix, tmp_path)) as base, httpx.AsyncClient(base_url=base) as c:
        leagues = (await c.get("/v1/leagues")).json()["leagues"]
        assert {"league": "acute", "version": 7, "href": "/v1/leagues/acute"} in leagues
        assert {x["league"] for x in leagues} >= {"acute", "mental-health-community", "ambulance"}

        r = await c.get("/v1/leagues/acute")
        assert r.status_code == 200 and r.headers["etag"] == 'W/"acute-7"'
        assert r.json()["entries"][0]["average_range"] == ["2.10", "2.30"]
        r304 = await c.get("/v1/leagues/acute", headers={"If-None-Match": 'W/"acute-7"'})
        assert r304.status_code == 304 and r304.content == b""
        await cache.write_league("acute", 8, {**snapshot, "version": 8}, {})
        r = await c.get("/v1/leagues/acute", headers={"If-None-Match": 'W/"acute-7"'})
        assert r.status_code == 200 and r.headers["etag"] == 'W/"acute-8"'

        trust = (await c.get("/v1/trusts/RAA")).json()
        assert trust["metrics"][0]["metric_id"] == "M1" and trust["history"][0]["new"] == {"segment": 2}

        for path in ("/v1/leagues/nope", "/v1/leagues/ambulance", "/v1/trusts/ZZZ"):
            r = await c.get(path)
            assert r.status_code == 404 and r.json()["detail"]
        assert (await c.get("/healthz")).json()["status"] == "ok"
        metrics = (await c.get("/metrics")).text
        assert "nof_publisher_sse_clients" in metrics and "nof_publisher_deliveries_total" in metrics
        assert (await c.get("/openapi.json")).json()["paths"]["/v1/stream"]
