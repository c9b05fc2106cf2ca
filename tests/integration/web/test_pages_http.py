"""The web page over HTTP (no browser): login, sessions, CSRF, escaping, errors."""

from __future__ import annotations

import httpx

from services.router.app import create_app
from tests.fixtures.factories import classified
from tests.integration.router.conftest import Store, router_settings
from tests.integration.web.conftest import csrf_of, login

Client = httpx.AsyncClient


async def test_pages_need_a_login(page_client: Client) -> None:
    for path in ("/ui/", "/ui/queues/energy_aid", "/ui/items/00000000-0000-0000-0000-000000000000"):
        response = await page_client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"] == "/ui/login"
    assert (await page_client.get("/ui/queues/rows")).status_code == 401
    assert (await page_client.get("/ui/events")).status_code == 401


async def test_login_sets_a_strict_httponly_cookie_without_the_token(page_client: Client) -> None:
    response = await login(page_client, "alice")
    assert response.status_code == 303 and response.headers["location"] == "/ui/"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/ui" in cookie
    assert "alice-token" not in cookie and "alice-token" not in response.headers["location"]
    overview = await page_client.get("/ui/")
    assert overview.status_code == 200
    assert "energy_aid" in overview.text and "housing" not in overview.text


async def test_wrong_token_is_refused_with_a_message(page_client: Client) -> None:
    form = await page_client.get("/ui/login", headers={"Accept-Language": "nl-BE,nl;q=0.9"})
    response = await page_client.post(
        "/ui/login",
        data={"token": "nope", "csrf": csrf_of(form.text)},
        headers={"Accept-Language": "nl-BE,nl;q=0.9"},
    )
    assert response.status_code == 401
    assert "Dit token is niet geldig" in response.text
    assert '<html lang="nl">' in response.text


async def test_forms_without_the_csrf_token_do_nothing(page_client: Client, store: Store) -> None:
    await store(classified("energy_aid"))
    await login(page_client, "alice")
    for data in ({}, {"csrf": "forged"}):
        response = await page_client.post("/ui/queues/energy_aid/claim", data=data)
        assert response.status_code == 403
        assert "Nothing was done" in response.text
    rows = (await page_client.get("/ui/queues/energy_aid")).text
    assert "Taken by" not in rows  # still waiting


async def test_sign_in_attempts_are_rate_limited(migrated_url: str) -> None:
    settings = router_settings(migrated_url, web_login_per_minute=1, web_login_burst=2)
    app = create_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://router") as client,
    ):
        form = await client.get("/ui/login")
        attempt = {"token": "guess", "csrf": csrf_of(form.text)}
        for _ in range(2):
            assert (await client.post("/ui/login", data=attempt)).status_code == 401
        limited = await client.post("/ui/login", data=attempt)
        assert limited.status_code == 429
        assert limited.headers["retry-after"] == "60"
        assert "Too many sign-in attempts" in limited.text
        # even the right token waits: guessing must not be able to tell
        right = {**attempt, "token": "alice-token"}
        assert (await client.post("/ui/login", data=right)).status_code == 429


async def test_a_cookie_signed_with_another_key_is_ignored(page_client: Client) -> None:
    await login(page_client, "alice")
    value = page_client.cookies["triage_session"]
    payload, _, _signature = value.partition(".")
    page_client.cookies.set("triage_session", f"{payload}.forged", path="/ui")
    assert (await page_client.get("/ui/")).status_code == 303


async def test_trusted_proxy_header_is_an_identity(migrated_url: str) -> None:
    app = create_app(
        router_settings(
            migrated_url, router_trust_proxy_header=True, router_trusted_proxies=["127.0.0.1"]
        )
    )
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://router") as client,
    ):
        response = await client.get("/ui/", headers={"X-Auth-User": "carol"})
        assert response.status_code == 200 and "housing" in response.text
        assert (await client.get("/ui/login", headers={"X-Auth-User": "carol"})).status_code == 303
        assert (await client.get("/ui/", headers={"X-Auth-User": "nobody"})).status_code == 303


async def test_request_text_is_escaped(page_client: Client, store: Store) -> None:
    event = classified("energy_aid", body='<script>alert("x")</script> & <b>bold</b>')
    await store(event)
    await login(page_client, "alice")
    html = (await page_client.get(f"/ui/items/{event.request_id}")).text
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; &lt;b&gt;bold&lt;/b&gt;" in html
    assert "<script>alert" not in html


async def test_security_headers(page_client: Client) -> None:
    response = await page_client.get("/ui/login")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["cache-control"] == "no-store"
    css = await page_client.get("/ui/static/app.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert (await page_client.get("/ui/static/../settings.py")).status_code == 404


async def test_unknown_and_forbidden(page_client: Client, store: Store) -> None:
    housing = classified("housing")
    await store(housing)
    await login(page_client, "alice")
    forbidden = await page_client.get(f"/ui/items/{housing.request_id}")
    assert forbidden.status_code == 404 and "does not exist" in forbidden.text
    missing = await page_client.get("/ui/queues/nope")
    assert missing.status_code == 404


async def test_language_switch_is_a_cookie(page_client: Client) -> None:
    response = await page_client.get("/ui/lang/fr", params={"next": "/ui/login"})
    assert response.status_code == 303 and response.headers["location"] == "/ui/login"
    page = await page_client.get("/ui/login")
    assert '<html lang="fr">' in page.text and "Jeton d&#39;accès" in page.text
    away = await page_client.get("/ui/lang/nl", params={"next": "https://evil.example/"})
    assert away.headers["location"] == "/ui/"


async def take_next(client: Client, queue: str = "energy_aid") -> httpx.Response:
    page = await client.get(f"/ui/queues/{queue}")
    return await client.post(f"/ui/queues/{queue}/claim", data={"csrf": csrf_of(page.text)})


async def act(client: Client, item: str, action: str, **fields: str) -> httpx.Response:
    page = await client.get(f"/ui/items/{item}")
    data = {"csrf": csrf_of(page.text), **fields}
    return await client.post(f"/ui/items/{item}/{action}", data=data)


async def test_conflict_is_a_409_page_with_the_holder(page_client: Client, store: Store) -> None:
    event = classified("energy_aid")
    await store(event)
    await login(page_client, "alice")
    taken = await take_next(page_client)
    assert taken.headers["location"] == f"/ui/items/{event.request_id}?notice=claimed"
    form = await page_client.get(f"/ui/items/{event.request_id}")
    lena = {"Authorization": "Bearer lena-token"}
    bob = {"Authorization": "Bearer bob-token"}
    await page_client.post(f"/v1/items/{event.request_id}/release", headers=lena)
    await page_client.post("/v1/queues/energy_aid/claim", headers=bob)
    response = await page_client.post(
        f"/ui/items/{event.request_id}/complete", data={"csrf": csrf_of(form.text)}
    )
    assert response.status_code == 409
    assert "Someone else has taken this item (bob). Nothing was changed." in response.text
    assert "Taken by bob" in response.text
    # The language switch returns to the item page, not to the POST-only URL.
    assert f'next=/ui/items/{event.request_id}"' in response.text


async def test_actions_and_where_they_lead(page_client: Client, store: Store) -> None:
    first, second = classified("energy_aid", "high"), classified("energy_aid", "normal")
    await store(first, second)
    await login(page_client, "alice")
    await take_next(page_client)
    item = first.request_id
    extended = await act(page_client, item, "heartbeat")
    assert extended.headers["location"] == f"/ui/items/{item}?notice=extended"
    bad = await act(page_client, item, "correct", urgency="extreme")
    assert bad.status_code == 422 and "Unknown urgency." in bad.text
    same = await act(page_client, item, "correct")
    assert same.status_code == 422 and "Choose a new type or a new urgency." in same.text
    nul = await act(page_client, item, "correct", urgency="low", reason="a\x00b")
    assert nul.status_code == 422 and "control characters" in nul.text
    nul_queue = await act(page_client, item, "reassign", queue="re\x00view")
    assert nul_queue.status_code == 422
    # Correcting the type to another team's queue: alice cannot see it any more.
    moved = await act(page_client, item, "correct", type="housing", reason="landlord")
    assert moved.headers["location"] == "/ui/?notice=corrected"
    assert (await page_client.get(f"/ui/items/{item}")).status_code == 404

    await take_next(page_client)
    released = await act(page_client, second.request_id, "release")
    assert released.headers["location"] == "/ui/queues/energy_aid?notice=released"
    await take_next(page_client)
    sent = await act(page_client, second.request_id, "reassign", queue="review")
    assert sent.headers["location"] == f"/ui/items/{second.request_id}?notice=reassigned"
    nothing = await take_next(page_client)
    assert nothing.headers["location"] == "/ui/queues/energy_aid?notice=nothing_to_claim"
    page = await page_client.get(nothing.headers["location"])
    assert "There is nothing to take in this queue." in page.text


async def test_filters_and_keyset_paging(page_client: Client, store: Store) -> None:
    events = [classified("energy_aid", "low") for _ in range(52)] + [
        classified("energy_aid", "high", needs_review=False)
    ]
    await store(*events)
    await login(page_client, "alice")
    first = await page_client.get("/ui/queues/energy_aid")
    assert first.text.count("<tr data-item=") == 50
    # low items tie on priority and due date, so which 49 of 52 are shown varies
    low = next(e for e in events[:-1] if e.request_id in first.text)
    assert first.text.index(events[-1].request_id) < first.text.index(low.request_id)
    after = first.text.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0]
    second = await page_client.get(after.replace("&amp;", "&"))
    assert second.text.count("<tr data-item=") == 3 and "First page" in second.text
    high = await page_client.get("/ui/queues/energy_aid", params={"urgency": "high"})
    assert high.text.count("<tr data-item=") == 1
    assert '<option value="high" selected>' in high.text
    junk = await page_client.get("/ui/queues/energy_aid", params={"after": "garbage"})
    assert junk.status_code == 422 and "no longer valid" in junk.text


async def test_logout(page_client: Client) -> None:
    await login(page_client, "alice")
    overview = await page_client.get("/ui/")
    copied = page_client.cookies["triage_session"]  # e.g. taken from a shared computer
    out = await page_client.post("/ui/logout", data={"csrf": csrf_of(overview.text)})
    assert out.headers["location"] == "/ui/login?notice=logged_out"
    assert (await page_client.get("/ui/")).status_code == 303
    assert "You are signed out." in (await page_client.get(out.headers["location"])).text
    # The session ended on the server: the old cookie is refused when replayed.
    page_client.cookies.clear()
    page_client.cookies.set("triage_session", copied, path="/ui")
    replayed = await page_client.get("/ui/")
    assert replayed.status_code == 303 and replayed.headers["location"] == "/ui/login"


async def test_the_item_page_shows_the_key_points_above_the_text(
    page_client: Client, store: Store
) -> None:
    from shared.events import KeyPoint

    points = [
        KeyPoint(text="Sibelga coupe le courant le 14 janvier.", source="body"),
        KeyPoint(
            text="La patiente dépend d'un concentrateur d'oxygène.", source="cert.pdf", page=2
        ),
        KeyPoint(text="Elle demande une intervention urgente.", source="body"),
    ]
    event = classified("energy_aid").model_copy(update={"key_points": points})
    await store(event)
    await login(page_client, "alice")
    html = (await page_client.get(f"/ui/items/{event.request_id}")).text
    assert html.index('id="key-points"') < html.index('id="request-body"')
    assert "concentrateur d&#39;oxygène." in html and "(cert.pdf, page 2)" in html
