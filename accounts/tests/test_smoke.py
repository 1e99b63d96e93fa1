def test_unknown_route_answers_json(api, db):
    response = api.get("/no/such/route")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}
    assert response["Content-Type"] == "application/json; charset=utf-8"
