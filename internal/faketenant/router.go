package faketenant

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// route is one Graph operation: its path pattern, the application
// permissions that grant it (any one suffices), and its base cost from
// graph.md §6.2.
type route struct {
	method   string
	pattern  []string // literal segments, or "{}" for a key
	template string   // for counters, e.g. /v1.0/users/{id}
	handler  func(*reqCtx) *gresp
	perms    []string
	ru       int
	write    bool
	metered  bool
}

type router struct {
	routes []*route
}

func (rt *router) add(method, template string, perms []string, ru int, h func(*reqCtx) *gresp) {
	var pat []string
	for _, seg := range strings.Split(strings.Trim(strings.TrimPrefix(template, "/v1.0"), "/"), "/") {
		if strings.HasPrefix(seg, "{") {
			seg = "{}"
		}
		pat = append(pat, seg)
	}
	write := method != http.MethodGet
	rt.routes = append(rt.routes, &route{method: method, pattern: pat, template: template, handler: h, perms: perms, ru: ru, write: write, metered: true})
}

// keySegment matches the users('upn') form of graph.md §1.2, and the
// applications(appId='…') alternate key.
var keySegment = regexp.MustCompile(`^([A-Za-z.]+)\((?:appId=)?'(.*)'\)$`)

// splitPath turns an escaped Graph path into decoded segments, expanding
// users('x') into users, x.
func splitPath(escaped string) ([]string, bool) {
	var out []string
	for _, raw := range strings.Split(strings.Trim(escaped, "/"), "/") {
		seg, err := url.PathUnescape(raw)
		if err != nil {
			return nil, false
		}
		if m := keySegment.FindStringSubmatch(seg); m != nil {
			out = append(out, m[1], strings.ReplaceAll(m[2], "''", "'"))
			continue
		}
		out = append(out, canonicalCast(seg))
	}
	return out, true
}

// match finds the route for a request. Literal segments win over keys, so
// /users/$count is not read as the user "$count". Path literals are
// case-insensitive, as in Graph.
func (rt *router) match(rc *reqCtx, segs []string) (*route, []string, *gresp) {
	var best *route
	var bestParams []string
	bestScore := -1
	pathKnown := false
	for _, r := range rt.routes {
		params, score, ok := matchPattern(r.pattern, segs)
		if !ok {
			continue
		}
		pathKnown = true
		if r.method != rc.method {
			continue
		}
		if score > bestScore {
			best, bestParams, bestScore = r, params, score
		}
	}
	if best != nil {
		return best, bestParams, nil
	}
	if pathKnown {
		// graph.md §5: 405 Request_BadRequest.
		return nil, nil, rc.fail(http.StatusMethodNotAllowed, "Request_BadRequest", "Specified HTTP method is not allowed for the request target.")
	}
	return nil, nil, rc.fail(http.StatusBadRequest, "BadRequest", "Resource not found for the segment '"+rt.unknownSegment(segs)+"'.")
}

// unknownSegment names the first segment no route continues with, as Graph
// does: in /users/{id}/nosuch that is "nosuch", never the object id before
// it.
func (rt *router) unknownSegment(segs []string) string {
	for i := range segs {
		if !rt.prefixKnown(segs[:i+1]) {
			return segs[i]
		}
	}
	if len(segs) == 0 {
		return ""
	}
	return segs[len(segs)-1]
}

// prefixKnown reports whether some route's path starts with prefix.
func (rt *router) prefixKnown(prefix []string) bool {
	for _, r := range rt.routes {
		if len(r.pattern) < len(prefix) {
			continue
		}
		if _, _, ok := matchPattern(r.pattern[:len(prefix)], prefix); ok {
			return true
		}
	}
	return false
}

func matchPattern(pat, segs []string) ([]string, int, bool) {
	if len(pat) != len(segs) {
		return nil, 0, false
	}
	var params []string
	score := 0
	for i, p := range pat {
		if p == "{}" {
			if segs[i] == "" {
				return nil, 0, false
			}
			params = append(params, segs[i])
			continue
		}
		if !strings.EqualFold(p, segs[i]) {
			return nil, 0, false
		}
		score++
	}
	return params, score, true
}
