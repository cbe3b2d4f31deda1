// Package msgraphsdk checks the fake tenant against Microsoft's own Graph
// SDK for Go (msgraph-sdk-go) and azidentity, used as their documentation
// shows and with their default middleware (request-body compression
// included). It is a module of its own so that the SDK, which takes minutes
// to build, stays out of the product's go.mod and out of `make test`; run it
// with `make test-sdk`.
//
// The test starts the o365prov binary's `fake-tenant --tls` on a free
// loopback port. Set O365PROV_BIN to a built binary, or the test builds one
// from this repository.
package msgraphsdk
