"""OpenAPI 3.1 documents generated from the route tables and the pydantic models, never written by
hand.

- `operation.py`: `documented(...)`, what a handler declares about itself (summary, request and
  response models, error statuses, security); it only attaches data, so it costs a request nothing.
- `builder.py`: `ContractSpec` (a contract's title, envelopes, security schemes) and
  `build_document(spec, setup_routes)`, which registers the contract's route table on a scratch
  router and walks it, so the document lists exactly the routes that are served.

Part of the kernel: imports the domain, pydantic and aiohttp, never a contract package (each
contract declares its own `ContractSpec` and the composition root puts them together).
"""
