"""Constraint violations answer 409/422 naming the constraint, never 500."""

import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient


async def test_unique_violation_is_a_409_naming_the_constraint(scratch_client: AsyncClient) -> None:
    first = await scratch_client.post("/scratch/widgets", json={"name": "twin"})
    second = await scratch_client.post("/scratch/widgets", json={"name": "twin"})

    assert first.status_code == 201
    assert second.status_code == 409
    assert second.json() == {
        "code": "unique_violation",
        "detail": "violates constraint uq_scratch_widgets_name",
        "constraint": "uq_scratch_widgets_name",
        "field": "name",
    }


async def test_check_violation_is_a_422_naming_the_constraint(scratch_client: AsyncClient) -> None:
    response = await scratch_client.post(
        "/scratch/widgets", json={"name": "negative", "quantity": -1}
    )

    assert response.status_code == 422
    assert response.json()["constraint"] == "ck_scratch_widgets_quantity_not_negative"
    assert response.json()["field"] == "quantity"


@pytest.mark.parametrize(
    "widget",
    [{"name": "huge", "quantity": 2**70}, {"name": "nul\u0000byte"}],
    ids=["out-of-range-integer", "nul-byte-in-text"],
)
async def test_a_value_that_does_not_fit_its_column_is_a_422(
    scratch_client: AsyncClient, widget: dict[str, object]
) -> None:
    response = await scratch_client.post("/scratch/widgets", json=widget)

    assert response.status_code == 422
    assert response.json()["code"] == "invalid_data"


async def test_the_request_after_a_violation_is_served_normally(
    scratch_client: AsyncClient,
) -> None:
    violation = await scratch_client.post("/scratch/widgets", json={"name": "bad", "quantity": -1})
    assert violation.json()["constraint"] == "ck_scratch_widgets_quantity_not_negative"

    response = await scratch_client.post("/scratch/widgets", json={"name": "good"})

    assert response.status_code == 201


async def test_data_endpoints_answer_503_when_the_database_is_unreachable(
    unreachable_scratch_app: FastAPI,
) -> None:
    transport = ASGITransport(app=unreachable_scratch_app)
    async with AsyncClient(transport=transport, base_url="http://test") as client:
        response = await client.post("/scratch/widgets", json={"name": "nowhere"})

    assert response.status_code == 503
    assert response.json()["code"] == "database_unavailable"
