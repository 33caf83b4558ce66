"""Statistics with charts: one event, and the chosen events side by side ("shared measurement").

GET /admin/events/<event_id>/statistics                 charts, each with its table
GET /admin/events/<event_id>/statistics/<table>.csv     one chart's numbers (UTF-8 with BOM)
GET /admin/events/<event_id>/statistics/choice-<qid>.csv  the answers to one choice question
GET /admin/statistics                                   the events the user may view, side by side
                                                          (?event=<id>… picks some; ?organizer=… a series)
GET /admin/statistics/<table>.csv                       one of those tables

The numbers are domain.insight.statistics'; a table here is (title, header, rows of str) and feeds the HTML
table under its chart and the CSV alike, so the two never differ. Counts only, no names: the
view capability is enough. A user never sees numbers of an event they have no role on.
"""

from __future__ import annotations

from datetime import datetime
from io import BytesIO
from zoneinfo import ZoneInfo

from flask import abort, g, render_template, request, send_file
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from ... import clock
from ...adapters import charts, sheets
from ...domain.access.permissions import Capability
from ...domain.insight import statistics as stats  # the view below is named statistics (its URL's endpoint)
from ...extensions import db
from ...models import Event
from .. import filters
from ..access import account_access, event_access
from ..count_words import count_word
from ..field_words import field_titles, sector_names
from . import bp
from .surveys import survey_stats_chart, survey_stats_tables

# The counters (domain.insight.counts) each table shows; every chart's series is one of its table's.
SESSION_COLUMNS = ("confirmed", "checked_in", "not_arrived", "walk_ins", "held", "waitlisted", "cancelled")
SECTOR_COLUMNS = ("active", "confirmed", "checked_in", "not_arrived", "walk_ins", "no_shows", "held", "waitlisted",
                  "cancelled")
CROSS_COLUMNS = ("active", "checked_in", "registered_arrivals", "walk_ins", "no_shows")
MAX_EVENTS = 200


def _pct(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.1f}%"


def _local(moment: datetime | None, zone: str, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return moment.astimezone(ZoneInfo(zone)).strftime(fmt) if moment else ""


def _session_title(s) -> str:
    return filters.session_name(s, g.event.timezone)


def event_tables(event: Event, st: stats.EventStats) -> dict[str, dict]:
    zone = event.timezone
    sectors = sector_names()
    leads = {"week": _("7 days or more before"), "days": _("2–6 days before"), "day_before": _("1–2 days before"),
             "last_day": _("Less than 24 hours before"), "after_start": _("After the start")}
    arrivals = []
    for s in st.sessions:
        for b in st.arrivals.get(s.id, []):
            arrivals.append([_session_title(s), _local(b["at"], zone), str(b["count"]), str(b["total"])])
    choices = {f"choice-{c['id']}": {"title": _("Answers: %(question)s", question=c["label"]),
                                     "header": [_("Choice"), _("People")],
                                     "rows": [[choice, str(n)] for choice, n in c["counts"]]
                                     + [[_("No answer"), str(c["unanswered"])]]}
               for c in st.choices}
    return choices | {
        "signups": {"title": _("Sign-ups over time"), "header": [
            _("Day"), _("Sign-ups"), _("Cancellations"), _("Sign-ups so far"), _("Still registered")],
            "rows": [[d["day"].isoformat(), *(str(d[k]) for k in ("signups", "cancellations", "total", "net"))]
                     for d in st.days]},
        "sessions": {"title": _("By session"), "header": [
            field_titles()["session"], _("Capacity"), *map(count_word, SESSION_COLUMNS), count_word("no_shows"), _("No-show rate")],
            "rows": [[_session_title(s), str(s.capacity), *(str(s.counts[n]) for n in SESSION_COLUMNS),
                      str(s.counts.no_shows) if s.ended else "", _pct(s.counts.no_show_rate) if s.ended else ""]
                     for s in st.sessions]},
        "sectors": {"title": _("By sector"), "header": [field_titles()["sector"], *map(count_word, SECTOR_COLUMNS)],
                    "rows": [[sectors[x["sector"]], *(str(x["counts"][n]) for n in SECTOR_COLUMNS)]
                             for x in st.sectors]},
        "arrivals": {"title": _("Arrivals on the day"), "header": [
            field_titles()["session"], _("From"), _("Arrived"), _("Arrived so far")], "rows": arrivals},
        "cancellations": {"title": _("Cancellations: how long before the start"), "header": [
            _("When"), _("Cancellations"), _("Of them after the deadline")],
            "rows": [[leads[c["lead"]], str(c["count"]), str(c["after_deadline"])] for c in st.cancellations]},
    }


def _event_charts(event: Event, st: stats.EventStats, tables: dict, width: int) -> dict[str, Markup]:
    uid = f"c{width}"
    out = {}
    zone = ZoneInfo(event.timezone)
    if st.days:
        first = st.days[0]["day"]
        markers = []
        for s in st.sessions:
            day = s.closes_at.astimezone(zone)
            position = (day.date() - first).days + (day.hour * 60 + day.minute) / 1440
            if 0 <= position <= len(st.days) + 1 and all(abs(position - p) > 0.01 for p, _ in markers):
                markers.append((position, _("Deadline %(when)s", when=day.strftime("%m/%d %H:%M"))))
        out["signups"] = charts.line_chart(
            uid=f"{uid}-signups", title=tables["signups"]["title"],
            desc=_("Cumulative sign-ups per day against the capacity of %(n)s seats; the table below has the numbers.",
                   n=st.capacity),
            x_labels=[d["day"].strftime("%m/%d") for d in st.days],
            series=[(_("Sign-ups so far"), [d["total"] for d in st.days]),
                    (_("Still registered"), [d["net"] for d in st.days])],
            hlines=[(st.capacity, _("Capacity"))], markers=markers, width=width)
    if st.sessions:
        out["sessions"] = charts.bar_chart(
            uid=f"{uid}-sessions", title=tables["sessions"]["title"],
            desc=_("Per session: arrived, confirmed but not arrived, waiting list; the mark is the capacity."),
            categories=[_session_title(s) for s in st.sessions],
            series=[(count_word(n), [s.counts[n] for s in st.sessions])
                    for n in ("checked_in", "not_arrived", "waitlisted", "cancelled")],
            marks=[s.capacity for s in st.sessions], marks_label=_("Capacity"), width=width)
    for c in st.choices:
        key = f"choice-{c['id']}"
        out[key] = charts.bar_chart(
            uid=f"{uid}-{key}", title=tables[key]["title"],
            desc=_("People still registered per choice; the table below has the numbers."),
            categories=[choice for choice, _n in c["counts"]],
            series=[(_("People"), [n for _choice, n in c["counts"]])], width=width)
    names = sector_names()
    out["sectors"] = charts.bar_chart(
        uid=f"{uid}-sectors", title=tables["sectors"]["title"],
        desc=_("Per sector: who came and who registered but did not come."),
        categories=[names[x["sector"]] for x in st.sectors],
        series=[(count_word(n), [x["counts"][n] for x in st.sectors])
                for n in ("checked_in", "not_arrived", "held", "waitlisted")], width=width)
    for s in st.sessions:
        bins = st.arrivals.get(s.id)
        if not bins:
            continue
        step = stats.BIN_MINUTES * 60
        first_at = min(bins[0]["at"], s.doors_at)
        start_bin = int(first_at.timestamp()) // step
        last_bin = int(bins[-1]["at"].timestamp()) // step
        counts = {int(b["at"].timestamp()) // step: b["count"] for b in bins}
        columns, cumulative, total = [], [], 0
        for n in range(start_bin, last_bin + 1):
            total += counts.get(n, 0)
            columns.append(counts.get(n, 0))
            cumulative.append(total)
        labels = [datetime.fromtimestamp(n * step, zone).strftime("%H:%M") for n in range(start_bin, last_bin + 1)]

        def position(at, start_bin=start_bin, step=step):
            return (at.timestamp() - start_bin * step) / step

        out[f"arrivals-{s.id}"] = charts.line_chart(
            uid=f"{uid}-arr{s.id}", title=_("Arrivals: %(session)s", session=_session_title(s)),
            desc=_("Check-ins per %(n)s minutes from doors-open, and arrived so far.", n=stats.BIN_MINUTES),
            x_labels=labels, series=[(_("Arrived so far"), cumulative)], bars=columns,
            bars_label=_("Per %(n)s minutes", n=stats.BIN_MINUTES),
            hlines=[(s.counts.confirmed, count_word("confirmed"))],
            markers=[(position(s.doors_at), _("Doors")), (position(s.starts_at), _("Start"))], width=width,
            edge_labels=True)
    return out


def _csv(rows: dict, name: str, filename: str):
    data = sheets.csv_bytes(rows["header"], rows["rows"])
    response = send_file(BytesIO(data), mimetype="text/csv", as_attachment=True, download_name=filename, max_age=0)
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Cache-Control"] = "no-store"
    return response


def _event_numbers(event: Event):
    st = stats.event_stats(event, now=clock.utcnow(), scope=stats.visible_event_ids(current_user))
    return st, event_tables(event, st)


@bp.get("/events/<int:event_id>/statistics")
@event_access(Capability.view)
def statistics(event: Event):
    st, tables = _event_numbers(event)
    wide, narrow = _event_charts(event, st, tables, 720), _event_charts(event, st, tables, 360)
    survey_tables = survey_stats_tables([event.id], {event.id: event.title})  # issue 17: the survey's numbers
    return render_template("admin/stats.html", event=event, st=st, tables=tables, wide=wide, narrow=narrow,
                           rate=_pct(st.totals.no_show_rate), survey_tables=survey_tables, survey_chart=None)


@bp.get("/events/<int:event_id>/statistics/<any(signups,sessions,sectors,arrivals,cancellations):table>.csv")
@bp.get("/events/<int:event_id>/statistics/choice-<int:question_id>.csv")
@event_access(Capability.view)
def statistics_csv(event: Event, table: str = "", question_id: int | None = None):
    _st, tables = _event_numbers(event)
    table = table or f"choice-{question_id}"
    if table not in tables:  # not a choice question of this event
        abort(404)
    return _csv(tables[table], table, f"event-{event.id}-statistics-{table}.csv")


# --- across events -------------------------------------------------------------------------------

def _chosen() -> tuple[list[Event], list[int], str]:
    """The viewable events, and the ids picked by ?event=… (or ?organizer=…): all when none."""
    visible = stats.visible_event_ids(current_user)
    events = db.session.query(Event).filter(Event.id.in_(visible)).all() if visible else []
    picked = set()
    for raw in request.args.getlist("event")[:MAX_EVENTS]:
        if raw.isascii() and raw.isdigit() and len(raw) < 10:
            picked.add(int(raw))
    organizer = request.args.get("organizer", "")[:200]
    if organizer:
        picked |= {e.id for e in events if e.organizer == organizer}
    chosen = [e.id for e in events if e.id in picked] or ([e.id for e in events] if not picked else [])
    return events, chosen, organizer


def cross_tables(cs: stats.CrossStats) -> dict[str, dict]:
    names = sector_names()
    return {
        "events": {"title": _("Per event"), "header": [
            _("Event"), _("Date"), *map(count_word, CROSS_COLUMNS), _("No-show rate"), count_word("cancelled"),
            _("Came back (attended an earlier one)")],
            "rows": [[e["title"], _local(e["starts_at"], e["timezone"], "%Y-%m-%d"),
                      *(str(e["counts"][n]) for n in CROSS_COLUMNS), _pct(e["counts"].no_show_rate),
                      str(e["counts"].cancelled), str(e["returning"])] for e in cs.events]},
        "sectors": {"title": _("Who came, by sector"), "header": [_("Event"), *names.values()],
                    "rows": [[e["title"], *(str(cs.sectors[e["id"]][code]) for code in names)] for e in cs.events]},
        "returners": {"title": _("Who came back: people who attended 2 or more of these events"),
                      "header": [field_titles()["sector"], _("People")],
                      "rows": [[names[r["sector"]], str(r["people"])] for r in cs.returners]},
    }


def _cross_numbers():
    events, chosen, organizer = _chosen()
    cs = stats.cross_stats(chosen, now=clock.utcnow())
    return events, chosen, organizer, cs, cross_tables(cs)


def _cross_charts(cs: stats.CrossStats, tables: dict, width: int) -> dict[str, Markup]:
    if not cs.events:
        return {}
    names = sector_names()
    titles = [e["title"] for e in cs.events]
    return {
        "events": charts.bar_chart(
            uid=f"x{width}-events", title=tables["events"]["title"],
            desc=_("Per event: who came (registered and walk-ins) and the no-shows."), categories=titles,
            series=[(count_word(n), [e["counts"][n] for e in cs.events])
                    for n in ("registered_arrivals", "walk_ins", "no_shows")], width=width),
        "sectors": charts.bar_chart(
            uid=f"x{width}-sectors", title=tables["sectors"]["title"],
            desc=_("Attendees of each event, stacked by sector."), categories=titles,
            series=[(names[code], [cs.sectors[e["id"]][code] for e in cs.events]) for code in names], width=width),
        "returners": charts.bar_chart(
            uid=f"x{width}-returners", title=tables["returners"]["title"],
            desc=_("People who attended two or more of the chosen events, by the sector they gave last."),
            categories=[names[r["sector"]] for r in cs.returners],
            series=[(_("People"), [r["people"] for r in cs.returners])], width=width),
    }


@bp.get("/statistics")
@account_access()
def cross_statistics():
    events, chosen, organizer, cs, tables = _cross_numbers()
    organizers = sorted({e.organizer for e in events if e.organizer})
    ordered = sorted(events, key=lambda e: e.sessions[0].starts_at.timestamp() if e.sessions else 0, reverse=True)
    return render_template("admin/stats_cross.html", events=ordered, chosen=set(chosen), organizer=organizer,
                           organizers=organizers, cs=cs, tables=tables, wide=_cross_charts(cs, tables, 720),
                           narrow=_cross_charts(cs, tables, 360), frequency=cs.frequency,
                           **_survey_parts(cs))


def _survey_parts(cs: stats.CrossStats) -> dict:
    """Issue 17: the survey's response rate and scores per event and by sector (web/admin/surveys.py)."""
    tables = survey_stats_tables([e["id"] for e in cs.events], {e["id"]: e["title"] for e in cs.events})
    return {"survey_tables": tables, "survey_chart": (survey_stats_chart(tables, 720), survey_stats_chart(tables, 360))}


@bp.get("/statistics/<any(events,sectors,returners):table>.csv")
@account_access()
def cross_statistics_csv(table: str):
    *_rest, tables = _cross_numbers()
    if table not in tables:
        abort(404)
    return _csv(tables[table], table, f"statistics-{table}.csv")
