def test_home_shows_the_signed_in_tenant(world):
    response = world.client_for(world.owner).get("/")
    assert response.status_code == 200
    assert b"Demo Field Services" in response.content
