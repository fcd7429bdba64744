package httpapi

import _ "embed"

//go:embed openapi.json
var openAPIDocument []byte

// OpenAPIDocument returns the OpenAPI 3.1 description of every endpoint the
// server serves. It is the one source of the request schemas the server
// enforces and of the response schemas the end-to-end tests check, so the
// document cannot drift from the behaviour. Callers must not modify the
// returned bytes.
func OpenAPIDocument() []byte { return openAPIDocument }
