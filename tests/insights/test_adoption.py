"""The adoption page: which practices spread where, who designs and who adopts; counts only, and
never a figure about fewer than k people, directly or by subtraction."""

from __future__ import annotations

import aiohttp

from bot.app import Components
from insights.adoption import adoption
from insights.privacy import Cell
from store import Database
from tests.insights.conftest import signed_in
from tests.insights.helpers import seed_adoption

K = 5


def _no_subtraction(cells: list[Cell]) -> None:
    """A line of parts and their total never has exactly one hidden figure."""
    assert sum(c.hidden for c in cells) != 1, cells


def test_practices_flows_and_schools_with_small_groups_hidden(db: Database) -> None:
    with db.session() as s:
        exit_id, phone_id = seed_adoption(s)
        page = adoption(s, K)

    first, second = page.practices[:2]
    assert (first.number, first.school, first.takers, first.schools) == (
        exit_id, "Lincoln MS", Cell(8), Cell(2),
    )  # fmt: skip
    # 3 adopt, 2 adapt, 0 abandon, 3 not yet among 8 members: each under 5 people is hidden
    assert [first.verdicts[v].value for v in ("adopt", "adapt", "abandon", "")] == [
        None,
        None,
        0,
        None,
    ]
    assert (second.number, second.takers, second.schools) == (phone_id, Cell(5), Cell(1))

    flows = {(f.origin, f.to): f.people for f in page.flows}
    assert set(flows) == {("Lincoln MS", "Eastside HS"), ("Eastside HS", "Lincoln MS")}
    assert ("Lincoln MS", "Maple ES") not in flows  # 2 people: only in "other pairs", hidden
    assert page.other_flows.hidden
    _no_subtraction([*flows.values(), page.other_flows, page.spread])

    named = {r.school: r for r in page.schools}
    assert set(named) == {"Lincoln MS", "Eastside HS"}  # Maple ES: 3 people, combined
    lincoln, eastside = named["Lincoln MS"], named["Eastside HS"]
    assert (eastside.designed, eastside.took_up, eastside.tried) == (Cell(5), Cell(6), Cell(0))
    assert eastside.role == "designs and adopts"
    assert lincoln.tried == Cell(9)  # 5 tried the published phone hotel, 4 another session
    # Maple's 1 idea and 2 pilot members are hidden, so one more figure in each of those
    # columns is (Lincoln's 5), or the total would give Maple's away.
    assert page.other_schools.designed.hidden and page.other_schools.took_up.hidden
    assert lincoln.designed.hidden and lincoln.took_up.hidden and lincoln.role == ""
    assert (page.totals.designed, page.totals.took_up) == (Cell(11), Cell(13))
    assert lincoln.in_field.hidden and eastside.in_field.hidden  # one author each
    rows = [*page.schools, page.other_schools]
    for column in ("designed", "in_field", "took_up", "tried"):
        _no_subtraction([*(getattr(r, column) for r in rows), getattr(page.totals, column)])
    for row in rows:
        if row.designed.hidden or row.took_up.hidden:
            assert row.role == ""
    assert page.other_schools.role == ""


def test_an_empty_district_has_an_empty_page(db: Database) -> None:
    with db.session() as s:
        page = adoption(s, K)
    assert page.practices == [] and page.flows == [] and page.schools == []
    assert page.spread == Cell(0) and page.totals.designed == Cell(0)


async def test_the_adoption_page_shows_the_figures_and_hides_small_groups(
    components: Components, site: str
) -> None:
    with components.database.session() as s:
        seed_adoption(s)
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        await signed_in(http, site, components)
        async with http.get(site + "/insights/adoption") as r:
            body = await r.text()
            assert r.status == 200
    assert "<h1>Adoption</h1>" in body and 'aria-current="page">Adoption' in body
    assert "#1 Exit tickets on sticky notes" in body and "Lincoln MS" in body
    assert "Maple ES" not in body  # too few people: combined, never named
    assert f"fewer than {K}" in body and 'role="img"' in body
    for person in ("UEP0", "ULT0", "ULIN0"):
        assert person not in body  # counts only


def test_a_publication_is_not_a_move_in_the_funnel(db: Database) -> None:
    import ideas
    from ideas.publishing import record_publication
    from insights.funnel import funnel

    staff = ideas.Actor("slack", "USTAFF")
    with db.session() as s:
        for n in range(K):
            answers = {"title": f"Idea {n}", "practice": "p", "problem": "p", "evidence": "e"}
            idea = ideas.submit_idea(s, answers, author=ideas.Actor("slack", f"U{n}"))
            for action in ("start_review", "pilot", "scale", "adopt"):
                ideas.transition(s, idea.id, action, actor=staff)
            record_publication(s, staff, idea.id, "field-ideas/x (https://v.example/1)")
        page = funnel(s, K)
    adopted = next(d for d in page.days if d.status == "adopted")
    assert adopted.median_days is None and adopted.ideas == Cell(0)  # no finished stay there
    assert page.month_totals[-1] == Cell(K)
