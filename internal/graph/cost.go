package graph

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// estimateRU is what Graph will charge for r, by the cost table of
// graph.md §6.2: reads of some collections cost more, $select saves one,
// $expand adds one, $top under 20 saves one, never below 1. The pacer
// reserves this before sending and corrects it by x-ms-resource-unit.
func estimateRU(r *Request) int {
	path, q := r.Path, r.Query
	if r.rawURL != "" {
		if u, err := url.Parse(r.rawURL); err == nil {
			path, q = strings.TrimPrefix(u.Path, "/v1.0"), u.Query()
		}
	}
	if r.Method != http.MethodGet {
		return 1
	}
	cost := baseReadCost(path)
	if q.Get("$select") != "" {
		cost--
	}
	if q.Get("$expand") != "" {
		cost++
	}
	if top, err := strconv.Atoi(q.Get("$top")); err == nil && top < 20 {
		cost--
	}
	return max(cost, 1)
}

func baseReadCost(path string) int {
	p := strings.Trim(path, "/")
	parts := strings.Split(p, "/")
	switch {
	case p == "users":
		return 2
	case p == "subscribedSkus":
		return 3
	case len(parts) == 3 && parts[0] == "groups" && parts[2] == "members":
		return 3
	case len(parts) == 3 && parts[0] == "groups" && parts[2] == "transitiveMembers":
		return 5
	case len(parts) == 3 && parts[0] == "users" && parts[2] == "licenseDetails":
		return 2
	}
	return 1
}
