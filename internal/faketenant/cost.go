package faketenant

import (
	"net/url"
	"strconv"
)

// requestCost applies graph.md §6.2's cost modifiers to a route's base cost:
// $select −1, $expand +1, $top under 20 −1, never below 1.
func requestCost(base int, q url.Values) int {
	c := base
	if q.Get("$select") != "" {
		c--
	}
	if q.Get("$expand") != "" {
		c++
	}
	if top := q.Get("$top"); top != "" {
		if n, err := strconv.Atoi(top); err == nil && n < 20 {
			c--
		}
	}
	if c < 1 {
		c = 1
	}
	return c
}
