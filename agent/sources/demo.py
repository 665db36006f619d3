"""Seeded demo warehouse: a Korean omnichannel retailer with planted incidents.

``generate`` draws customers, events and NPS responses with numpy in bulk (no loop per
customer or per event), writes them to a DuckDB file and returns the incidents it
planted, so tests, the README demo and benchmarks can check that the agent finds them
(the ruptures ``datasets/`` idea). Times are naive Asia/Seoul local time.

Visits are a thinned Poisson process: each customer draws candidate visit days at a
peak rate over their lifetime (signup to churn), then each candidate is kept with
probability seasonality(channel, day) / peak, times any incident's effect.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path

import duckdb
import holidays
import numpy as np
import pandas as pd

from agent.sources.demo_comments import PLANTED_THEME, comments
from agent.sources.demo_payments import payments

__all__ = ["Incident", "generate", "read_ground_truth", "write_ground_truth"]

TIERS = ("premium", "gold", "silver", "basic")
REGIONS: tuple[str, ...] = ("Seoul", "Gyeonggi", "Busan", "Incheon", "Daegu")
REGIONS += ("Daejeon", "Gwangju", "Ulsan", "Gangwon", "Jeju")
ACQUISITIONS = ("search", "social", "referral", "offline", "partner")
CHANNELS = ("web", "app", "store", "call_center")
DEVICES = ("android", "ios", "desktop")
EVENT_TYPES = ("visit", "purchase", "support")
WEB, APP, STORE, CALL = range(4)
ANDROID, IOS, DESKTOP = range(3)
VISIT, PURCHASE, SUPPORT = range(3)
BUSAN = REGIONS.index("Busan")
DAY = 86_400  # seconds

TIER_SHARE = np.array([0.05, 0.15, 0.30, 0.50])
TIER_VISIT_DAYS = np.array([0.30, 0.20, 0.11, 0.055])  # premium: every ~3 days
TIER_SPREAD = np.array([0.5, 0.7, 0.8, 0.9])  # lognormal sigma of visit rates within a tier
TIER_BUY = np.array([0.30, 0.25, 0.20, 0.16])  # purchase chance per visit
TIER_BASKET = np.array([160_000, 90_000, 55_000, 32_000])  # median KRW
REGION_POP = np.array([9.4, 13.7, 3.3, 3.0, 2.4, 1.4, 1.4, 1.1, 1.5, 0.7])  # millions
ACQ_SHARE = np.array([0.30, 0.25, 0.15, 0.20, 0.10])
# Preferred visit channel (web, app, store) by acquisition: social app-heavy, offline store.
PREFERRED = np.array([[0.5, 0.3, 0.2], [0.2, 0.65, 0.15], [0.3, 0.4, 0.3], [0.2, 0.2, 0.6]])
PREFERRED = np.vstack([PREFERRED, [0.4, 0.4, 0.2]])
CHANNEL_BUY = np.array([0.8, 0.9, 1.5])  # web, app, store
EXTRA_VISITS = np.array([1.3, 1.8, 0.0])  # more sessions the same day (Poisson mean)
# fmt: off
# Visit multiplier Monday..Sunday for web, app, store: weekday online, weekend store.
WEEKLY = np.array([[1.10, 1.10, 1.05, 1.05, 1.00, 0.80, 0.85],
                   [1.05, 1.05, 1.05, 1.05, 1.05, 0.90, 0.95],
                   [0.80, 0.80, 0.80, 0.85, 1.00, 1.60, 1.45]])
# (detractor, passive, promoter) mix per surveyed channel; last row: call centre in crisis.
NPS_MIX = np.array([[0.20, 0.40, 0.40], [0.17, 0.38, 0.45], [0.12, 0.38, 0.50],
                    [0.25, 0.42, 0.33], [0.62, 0.25, 0.13]])
# fmt: on
_H = np.arange(24)


def _peak(hour: float, width: float) -> np.ndarray:
    peak: np.ndarray = np.exp(-(((_H - hour) / width) ** 2))
    return peak


# Hour-of-day weights per channel: online peaks at lunch and late evening; opening hours.
HOURS = np.array([
    0.05 + _peak(21, 3) + 0.6 * _peak(13, 3),
    0.05 + _peak(22, 2.5) + 0.8 * _peak(12, 2),
    ((_H >= 10) & (_H < 21)) * (1 + _peak(17, 3)),
    ((_H >= 9) & (_H < 18)) * (1 + 0.5 * (_H == 10)),
])  # fmt: skip

APP_RELEASE_KEEP = 0.2  # share of Android-app customers' visits left after the release
WEB_CHECKOUT_KEEP = 0.5  # share of desktop-web purchases left after the checkout bug
CLOSURE_LAPSE_DAYS = 7  # Busan premium store customers lapse spread over this many days


@dataclass(frozen=True)
class Incident:
    """A planted change: from ``onset`` on, ``metric`` moves in ``segment``.

    ``visible`` is the first day the metric can show it: churn counts a customer only
    after a whole window without a visit, so a closure shows in churn a window later.
    ``theme`` is what the segment's comments shift toward (``name``, the ``terms`` it
    shows as, ``words`` its comments carry), when the incident has one. ``hour`` is the
    hour of ``onset`` the change starts at, for an hourly metric's incident.
    """

    what: str
    metric: str
    onset: date
    segment: dict[str, str]
    visible: date
    theme: dict[str, object] | None = None
    hour: int | None = None

    @property
    def starts(self) -> datetime:
        """When the change starts: the onset hour, or the onset day's start."""
        return datetime.combine(self.onset, time(self.hour or 0))


def _incidents(end: date) -> list[Incident]:
    def plant(
        what: str,
        metric: str,
        days_before: int,
        lag: int = 0,
        /,
        **segment: str,
    ) -> Incident:
        onset = end - timedelta(days=days_before)
        theme: dict[str, object] | None = dict(PLANTED_THEME) if metric == "nps" else None
        return Incident(what, metric, onset, segment, onset + timedelta(days=lag), theme)

    app, web = {"channel": "app", "device": "android"}, {"channel": "web", "device": "desktop"}
    return [
        plant("Android app release cuts revisits", "revisit_rate", 40, **app),
        plant("Store closure raises premium churn", "premium_churn", 35, 14, region="Busan"),
        plant("Call-center waits drop NPS", "nps", 25, channel="call_center"),
        plant("Web checkout bug cuts conversion", "conversion", 15, **web),
        replace(
            plant(
                "iOS app update breaks card payments",
                "payment_success",
                4,
                channel="app",
                device="ios",
            ),
            hour=14,
        ),
    ]


def write_ground_truth(incidents: list[Incident], path: Path) -> None:
    """Write the planted incidents as a JSON list (dates as ISO strings)."""
    rows = [
        asdict(i) | {"onset": i.onset.isoformat(), "visible": i.visible.isoformat()}
        for i in incidents
    ]
    path.write_text(json.dumps(rows, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def read_ground_truth(path: Path) -> list[Incident]:
    """Read incidents written by :func:`write_ground_truth`."""
    rows = json.loads(path.read_text(encoding="utf-8"))
    dates = ("onset", "visible")
    return [Incident(**(r | {k: date.fromisoformat(r[k]) for k in dates})) for r in rows]


@dataclass(frozen=True)
class _World:
    """Calendar and planted onsets, as day indexes from the first day of data."""

    start: date
    days: int
    visit: np.ndarray  # (3, days) visit multiplier for web, app, store
    store_buy: np.ndarray  # (days,) purchase multiplier in stores (holiday gift shopping)
    onset: dict[str, int]  # metric -> first affected day index


def _world(end: date, days: int, incidents: list[Incident]) -> _World:
    start = end - timedelta(days=days - 1)
    dates = pd.date_range(start, periods=days)
    kr = holidays.country_holidays("KR", years=range(start.year, end.year + 1))
    names = [kr.get(d.date(), "") for d in dates]
    major = np.array([("Korean New Year" in n) or ("Chuseok" in n) for n in names])
    minor = np.array([bool(n) for n in names]) & ~major
    visit = WEEKLY[:, dates.day_of_week.to_numpy()]
    visit[:, minor] = WEEKLY[:, [5]]  # a minor holiday looks like a Saturday
    visit[:, major] = WEEKLY[:, [5]] * np.array([[0.6], [0.6], [0.75]])
    store_buy = np.where(major, 1.8, np.where(minor, 1.2, 1.0))
    onset = {i.metric: (i.onset - start).days for i in incidents}
    return _World(start, days, visit, store_buy, onset)


def _pick(rng: np.random.Generator, probs: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Draw one category per element, from the probability row ``probs[rows[i]]``."""
    cdf = np.cumsum(probs / probs.sum(axis=1, keepdims=True), axis=1)
    u = rng.random(rows.size)
    out = np.empty(rows.size, dtype=np.int64)
    for r in range(len(probs)):
        mask = rows == r
        out[mask] = np.searchsorted(cdf[r], u[mask], side="right")
    picked: np.ndarray = np.minimum(out, probs.shape[1] - 1)
    return picked


def _customers(rng: np.random.Generator, n: int, w: _World) -> pd.DataFrame:
    one = np.zeros(n, dtype=np.int64)
    acquisition = _pick(rng, ACQ_SHARE[None, :], one)
    mobile = np.where(rng.random(n) < 0.6, ANDROID, IOS)
    new = rng.random(n) < 0.3  # signed up inside the window, at a growing pace
    growth = w.days * (np.sqrt(1 + 3 * rng.random(n)) - 1)  # density grows 1x -> 2x
    signup = np.where(new, growth, -rng.uniform(1, 3 * 365, n))
    tier = _pick(rng, TIER_SHARE[None, :], one)
    spread = TIER_SPREAD[tier]  # mean-one lognormal around the tier's visit rate
    return pd.DataFrame(
        {
            "tier": tier,
            "region": _pick(rng, REGION_POP[None, :], one),
            "acquisition": acquisition,
            "preferred": _pick(rng, PREFERRED, acquisition),
            "mobile": mobile,
            "web_device": np.where(rng.random(n) < 0.55, DESKTOP, mobile),
            "visit_days": TIER_VISIT_DAYS[tier] * rng.lognormal(-(spread**2) / 2, spread),
            "signup": signup,
            "churn": np.maximum(signup, 0) + rng.exponential(700, n),
        }
    )


def _close_busan_stores(rng: np.random.Generator, c: pd.DataFrame, onset: int) -> None:
    """Most premium Busan store shoppers lapse, spread over the weeks after closure."""
    store_share = np.where(c.preferred == STORE, 0.95, 0.6)
    hit = (c.tier == 0) & (c.region == BUSAN) & (rng.random(len(c)) < store_share)
    lapse = onset + rng.uniform(0, CLOSURE_LAPSE_DAYS, len(c))
    c["churn"] = np.where(hit & (c.signup < onset), np.minimum(c.churn, lapse), c.churn)


def _device(channel: np.ndarray, c: pd.DataFrame, who: np.ndarray) -> np.ndarray:
    mobile, web = c.mobile.to_numpy()[who], c.web_device.to_numpy()[who]
    return np.select([channel == APP, channel == WEB], [mobile, web], default=-1)


def _events(who: np.ndarray, sec: np.ndarray, kind: int, channel: np.ndarray) -> pd.DataFrame:
    kinds = np.full(who.size, kind)
    return pd.DataFrame({"customer": who, "sec": sec, "type": kinds, "channel": channel})


def _hit_by_release(c: pd.DataFrame, who: np.ndarray, channel: np.ndarray) -> np.ndarray:
    """Visits lost to the Android app release: any visit of an Android-app regular, and
    any Android app visit. Premium customers are spared, so premium churn stays Busan's."""
    android = (c.mobile == ANDROID).to_numpy()[who]
    regular = (c.preferred == APP).to_numpy()[who]
    hit: np.ndarray = android & (regular | (channel == APP)) & (c.tier != 0).to_numpy()[who]
    return hit


def _clock(rng: np.random.Generator, day: np.ndarray, channel: np.ndarray) -> np.ndarray:
    """Seconds since the first day: ``day`` at an hour typical of ``channel``."""
    hour = _pick(rng, HOURS, channel)
    seconds: np.ndarray = day * DAY + hour * 3600 + rng.integers(0, 3600, day.size)
    return seconds


def _visits(rng: np.random.Generator, c: pd.DataFrame, w: _World) -> pd.DataFrame:
    start = np.clip(c.signup.to_numpy(), 0, w.days)
    span = np.clip(c.churn.to_numpy(), 0, w.days) - start
    peak = w.visit.max()
    who = np.repeat(np.arange(len(c)), rng.poisson(c.visit_days * peak * np.maximum(span, 0)))
    day = np.floor(start[who] + rng.random(who.size) * span[who]).astype(np.int64)
    preferred = c.preferred.to_numpy()[who]
    other = (preferred + rng.integers(1, 3, who.size)) % 3
    channel = np.where(rng.random(who.size) < 0.7, preferred, other)
    keep = w.visit[channel, day] / peak
    released = _hit_by_release(c, who, channel) & (day >= w.onset["revisit_rate"])
    keep *= np.where(released, APP_RELEASE_KEEP, 1.0)
    kept = rng.random(who.size) < keep
    sessions = 1 + rng.poisson(EXTRA_VISITS[channel[kept]])
    who, day, channel = (np.repeat(a[kept], sessions) for a in (who, day, channel))
    return _events(who, _clock(rng, day, channel), VISIT, channel)


def _purchases(
    rng: np.random.Generator, v: pd.DataFrame, c: pd.DataFrame, w: _World
) -> pd.DataFrame:
    who, channel, day = v.customer.to_numpy(), v.channel.to_numpy(), v.sec.to_numpy() // DAY
    tier = c.tier.to_numpy()[who]
    p = TIER_BUY[tier] * CHANNEL_BUY[channel] * np.where(channel == STORE, w.store_buy[day], 1.0)
    desktop_web = (channel == WEB) & (_device(channel, c, who) == DESKTOP)
    p *= np.where(desktop_web & (day >= w.onset["conversion"]), WEB_CHECKOUT_KEEP, 1.0)
    buy = rng.random(who.size) < p
    sec = v.sec.to_numpy()[buy] + rng.integers(120, 1800, buy.sum())
    out = _events(who[buy], sec, PURCHASE, channel[buy])
    basket = TIER_BASKET[tier[buy]] * rng.lognormal(0, 0.6, buy.sum())
    out["amount"] = np.round(basket * np.where(channel[buy] == STORE, 1.2, 1.0), -2)
    return out


def _support(rng: np.random.Generator, p: pd.DataFrame) -> pd.DataFrame:
    """Order issues: a share of purchases is followed by a contact, mostly by phone."""
    asks = rng.random(len(p)) < 0.2
    day = p.sec.to_numpy()[asks] // DAY + rng.integers(1, 6, asks.sum())
    channel = _pick(rng, np.array([[0.10, 0.15, 0.0, 0.75]]), np.zeros(asks.sum(), np.int64))
    return _events(p.customer.to_numpy()[asks], _clock(rng, day, channel), SUPPORT, channel)


def _nps(rng: np.random.Generator, touches: pd.DataFrame, w: _World) -> pd.DataFrame:
    rate = np.where(touches.type == SUPPORT, 0.6, 0.1)
    asked = touches[rng.random(len(touches)) < rate]
    sec = asked.sec.to_numpy() + rng.integers(3600, 2 * DAY, len(asked))
    channel = asked.channel.to_numpy()
    crisis = (channel == CALL) & (sec // DAY >= w.onset["nps"])
    group = _pick(rng, NPS_MIX, np.where(crisis, len(NPS_MIX) - 1, channel))
    low, width = np.array([0, 7, 9])[group], np.array([7, 2, 2])[group]
    score = low + np.floor(rng.random(len(asked)) ** 0.6 * width).astype(np.int64)
    nps = pd.DataFrame({"customer": asked.customer.to_numpy(), "sec": sec, "channel": channel})
    nps = nps.assign(score=score, group=group, crisis=crisis)
    return nps[sec < w.days * DAY]


def _labels(codes: np.ndarray, names: tuple[str, ...]) -> pd.Categorical[str]:
    return pd.Categorical.from_codes(codes, categories=pd.Index(names))


def _timestamps(w: _World, sec: np.ndarray) -> np.ndarray:
    return (np.datetime64(w.start, "s") + sec.astype("timedelta64[s]")).astype("datetime64[us]")


def _customer_table(c: pd.DataFrame, w: _World) -> pd.DataFrame:
    signup = pd.Timestamp(w.start) + pd.to_timedelta(np.floor(c.signup), unit="D")
    return pd.DataFrame(
        {
            "customer_id": np.arange(1, len(c) + 1),
            "tier": _labels(c.tier.to_numpy(), TIERS),
            "region": _labels(c.region.to_numpy(), REGIONS),
            "acquisition": _labels(c.acquisition.to_numpy(), ACQUISITIONS),
            "signup_date": signup.dt.date,
        }
    )


def _event_table(c: pd.DataFrame, w: _World, parts: list[pd.DataFrame]) -> pd.DataFrame:
    e = pd.concat(parts, ignore_index=True)
    order = np.lexsort((e.type, e.customer, e.sec))
    e = e.iloc[order[e.sec.to_numpy()[order] < w.days * DAY]]
    who, channel = e.customer.to_numpy(), e.channel.to_numpy()
    return pd.DataFrame(
        {
            "event_id": np.arange(1, len(e) + 1),
            "customer_id": who + 1,
            "event_time": _timestamps(w, e.sec.to_numpy()),
            "event_type": _labels(e.type.to_numpy(), EVENT_TYPES),
            "channel": _labels(channel, CHANNELS),
            "device": _labels(_device(channel, c, who), DEVICES),
            "amount": e.amount.to_numpy(),
        }
    )


def _nps_table(nps: pd.DataFrame, w: _World, seed: int) -> pd.DataFrame:
    """The responses in time order, each with its comment (drawn from a generator of its
    own, so the comments leave every other number of the demo as it was)."""
    nps = nps.sort_values(["sec", "customer"], kind="stable")
    rng = np.random.default_rng([seed, 24])
    group, crisis = nps.group.to_numpy(), nps.crisis.to_numpy()
    return pd.DataFrame(
        {
            "response_id": np.arange(1, len(nps) + 1),
            "customer_id": nps.customer.to_numpy() + 1,
            "response_time": _timestamps(w, nps.sec.to_numpy()),
            "channel": _labels(nps.channel.to_numpy(), CHANNELS),
            "score": nps.score.to_numpy().astype(np.int32),
            "comment": comments(rng, group, nps.channel.to_numpy(), crisis),
        }
    )


_VIEWS = """
CREATE VIEW customer_events AS SELECT e.*, c.tier, c.region, c.acquisition, c.signup_date
  FROM events e JOIN customers c USING (customer_id);
CREATE VIEW customer_nps AS SELECT r.*, c.tier, c.region, c.acquisition, c.signup_date
  FROM nps_responses r JOIN customers c USING (customer_id);
"""


def _known_events(end: date) -> pd.DataFrame:
    """The team's event log: two releases behind incidents, and a campaign that is not."""
    day = pd.Timestamp(end)
    rows = [
        ("Android app 5.2 release", "release", 40, 40, None, "android", None),
        ("Checkout page redesign", "release", 15, 15, "web", "desktop", None),
        ("Autumn loyalty campaign", "campaign", 75, 61, None, None, "premium"),
    ]
    frame = pd.DataFrame(
        [
            (name, kind, day - pd.Timedelta(days=a), day - pd.Timedelta(days=b), ch, dev, tier)
            for name, kind, a, b, ch, dev, tier in rows
        ],
        columns=["name", "kind", "start_date", "end_date", "channel", "device", "tier"],
    )
    frame["start_date"] = frame["start_date"].dt.date
    frame["end_date"] = frame["end_date"].dt.date
    return frame


def _write(path: Path, tables: dict[str, pd.DataFrame]) -> None:
    """Build the file next to ``path`` and rename it into place, so readers never see half."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    with duckdb.connect(str(tmp)) as con:
        con.execute("SET enable_progress_bar = false")
        for name, frame in tables.items():
            labels = [c for c in frame if isinstance(frame[c].dtype, pd.CategoricalDtype)]
            casts = ", ".join(f"{c}::VARCHAR AS {c}" for c in labels)
            columns = f"* REPLACE ({casts})" if casts else "*"
            con.register("frame", frame)
            con.execute(f"CREATE TABLE {name} AS SELECT {columns} FROM frame")
            con.unregister("frame")
        con.execute(_VIEWS)
    os.replace(tmp, path)
    Path(f"{path}.wal").unlink(missing_ok=True)


def _outage(incidents: list[Incident]) -> datetime:
    return next(i.starts for i in incidents if i.metric == "payment_success")


def generate(
    path: Path, *, end: date, seed: int = 7, customers: int = 50_000, days: int = 210
) -> list[Incident]:
    """Write the demo warehouse to ``path`` (replacing it) and return the planted incidents.

    Data covers ``days`` full days ending with ``end``; every onset lies in the last 60 days,
    so ``days`` must leave history before them.
    """
    if days < 90:
        raise ValueError(f"days={days}: the demo needs at least 90 days of history")
    incidents = _incidents(end)
    rng = np.random.default_rng(seed)
    w = _world(end, days, incidents)
    c = _customers(rng, customers, w)
    _close_busan_stores(rng, c, w.onset["premium_churn"])
    visits = _visits(rng, c, w)
    purchases = _purchases(rng, visits, c, w)
    support = _support(rng, purchases)
    nps = _nps(rng, pd.concat([purchases, support], ignore_index=True), w)
    tables = {
        "customers": _customer_table(c, w),
        "events": _event_table(c, w, [visits, purchases, support]),
        "nps_responses": _nps_table(nps, w, seed),
        "known_events": _known_events(end),
        "payments": payments(seed, w.start, w.visit, HOURS, _outage(incidents)),
    }
    _write(Path(path), tables)
    return incidents
