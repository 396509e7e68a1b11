"""The rows and the answer of `POST /v1/customers/import`."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from surveys.customer_schemas import CustomerPut, CustomerRef


class CustomerRow(CustomerPut):
    """One row of an import: what `PUT /v1/customers/{customer_ref}` takes, and the reference."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=None)

    customer_ref: CustomerRef


class RowError(BaseModel):
    row: int = Field(description="The data row, 1-based (a CSV header and blank lines not counted)")
    customer_ref: str | None = Field(None, description="The row's reference, if it names one")
    problems: list[str] = Field(description="What is wrong, by field (`consent.at: ...`)")


class ImportReport(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "import_id": "5f0c6a1e-3c1b-4d0e-9a55-2f8f1a7d9b10",
                    "rows": 3,
                    "accepted": 2,
                    "rejected": 1,
                    "errors": [
                        {
                            "row": 2,
                            "customer_ref": "crm-2",
                            "problems": [
                                "phone: String should match pattern '^\\+[1-9][0-9]{1,14}$'"
                            ],
                        }
                    ],
                    "errors_truncated": False,
                    "position": "callcenter.surveys.v1:0:1041",
                }
            ]
        }
    )

    import_id: str = Field(description="Names this import in the service's logs")
    rows: int = Field(description="Data rows read")
    accepted: int = Field(description="Rows written: their customers replace what was there")
    rejected: int = Field(description="Rows not written, each for the reasons in `errors`")
    errors: list[RowError] = Field(description="The first 1000 rejected rows, in file order")
    errors_truncated: bool = Field(description="More rows were rejected than `errors` lists")
    position: str | None = Field(
        description="Log position of the last write (for `min_position`); null if none"
    )
