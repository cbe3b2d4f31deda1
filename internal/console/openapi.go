package console

import (
	_ "embed"
	"net/http"
)

// openAPIDoc describes the admin API. It is written by hand, for people;
// TestOpenAPIMatchesRoutes keeps it and the route table in step.
//
//go:embed web/openapi.json
var openAPIDoc []byte

func (s *Server) openAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_, _ = w.Write(openAPIDoc)
}
