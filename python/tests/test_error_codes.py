"""The SDK's error codes are the server's: ``ERROR_CODES`` against ``ErrorCodes`` in the contracts
(the source of truth) and against the codes the running server documents."""

from __future__ import annotations

import json
import shutil
import subprocess

import httpx
import pytest
from conftest import REPO
from forja.exceptions import ERROR_CODES

# Read the way the server reads it: the TypeScript module itself, through tsx as the node tests do.
_PRINT_ERROR_CODES = "const { ErrorCodes } = await import('@forja/contracts'); console.log(JSON.stringify(ErrorCodes));"


def _contract_error_codes() -> dict:
    node = shutil.which("node")
    if node is None:
        pytest.fail("`node` is not on PATH; it reads the contracts' ErrorCodes", pytrace=False)
    out = subprocess.run(
        [node, "--conditions=source", "--import", "tsx", "--input-type=module", "-e", _PRINT_ERROR_CODES],
        cwd=str(REPO),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return json.loads(out.stdout)


def test_every_code_and_status_matches_the_contracts_both_ways():
    contract = _contract_error_codes()
    assert sorted(set(contract) - set(ERROR_CODES)) == [], "codes the server answers with that forja.exceptions.ERROR_CODES lacks"
    assert sorted(set(ERROR_CODES) - set(contract)) == [], "codes in forja.exceptions.ERROR_CODES the server never answers with"
    assert {code: ERROR_CODES[code] for code in contract} == contract, "a code comes with another HTTP status on the server"


def test_the_served_openapi_document_names_the_same_codes(server):
    doc = httpx.get(f"{server.url}/api/v1/openapi.json").json()
    served = doc["components"]["schemas"]["ErrorBody"]["properties"]["error"]["properties"]["code"]["enum"]
    assert sorted(served) == sorted(ERROR_CODES)
