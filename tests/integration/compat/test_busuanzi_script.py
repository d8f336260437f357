"""``GET /busuanzi/2.3/busuanzi.pure.mini.js``: the stock script, counting on this server."""

from flask import Flask

from page_tracker.compat.views import _busuanzi_source


def test_should_serve_the_stock_script_asking_the_host_it_came_from(app: Flask) -> None:
    response = app.test_client().get(
        "/busuanzi/2.3/busuanzi.pure.mini.js", headers={"Host": "stats.example.com:8443"}
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/javascript; charset=utf-8"
    body = response.get_data(as_text=True)
    assert '"//stats.example.com:8443/busuanzi?jsonpCallback=BusuanziCallback"' in body
    assert "busuanzi.ibruce.info" not in body
    assert "Permission is hereby granted" in body  # the MIT notice travels with the copy
    assert body.rstrip().endswith("})({ exports: {} });")


def test_should_change_nothing_but_the_host(app: Flask) -> None:
    body = app.test_client().get("/busuanzi/2.3/busuanzi.pure.mini.js").get_data(as_text=True)
    original = _busuanzi_source()
    assert body == original.replace("//busuanzi.ibruce.info/", "//localhost/")


def test_should_refuse_a_host_header_that_could_escape_the_string(app: Flask) -> None:
    response = app.test_client().get(
        "/busuanzi/2.3/busuanzi.pure.mini.js", headers={"Host": 'x"+alert(1)+"'}
    )
    assert response.status_code == 400
