package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/o365prov/o365prov/internal/faketenant"
	"github.com/o365prov/o365prov/internal/ldapserver"
)

// naiveClient is what a script does: one request at a time, no $batch, no
// pacing, and on 429 it sleeps for Retry-After and tries again.
type naiveClient struct {
	http   *http.Client
	base   string
	token  string
	scale  float64
	tenant *faketenant.Tenant
}

// do sends one request, retrying only on 429.
func (c *naiveClient) do(ctx context.Context, method, path string, body any) ([]byte, error) {
	data, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	for {
		req, err := http.NewRequestWithContext(ctx, method, c.base+path, bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Authorization", "Bearer "+c.token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := c.http.Do(req)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", method, path, err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		switch {
		case resp.StatusCode == http.StatusTooManyRequests:
			// Retry-After is in tenant seconds; the wall sleeps that
			// divided by the time scale.
			secs, _ := strconv.ParseFloat(resp.Header.Get("Retry-After"), 64)
			select {
			case <-ctx.Done():
				return nil, ctx.Err()
			case <-time.After(time.Duration(max(secs, 1) * float64(time.Second) / c.scale)):
			}
		case resp.StatusCode >= 300:
			return nil, fmt.Errorf("%s %s: status %d: %s", method, path, resp.StatusCode, bytes.TrimSpace(out))
		default:
			return out, nil
		}
	}
}

// measureNaive provisions up to o.NaiveUsers of the organisation's people
// into a fresh tenant naively: each person created, then licensed, then
// given a manager (when the manager is in the subset), one request each.
func measureNaive(ctx context.Context, w *world, o Options) (Naive, error) {
	t, err := startTenant(o)
	if err != nil {
		return Naive{}, err
	}
	defer t.Close()
	token, err := t.IssueToken(faketenant.DemoClientID)
	if err != nil {
		return Naive{}, fmt.Errorf("naive baseline: token: %w", err)
	}
	c := &naiveClient{http: t.srv.Client(), base: t.srv.URL, token: token, scale: o.TimeScale, tenant: t.Tenant}
	skus := map[string]string{}
	for _, s := range t.SKUs() {
		skus[strings.ToUpper(s.SkuPartNumber)] = s.SkuID
	}
	persons, _ := people(w.ldap)
	persons = persons[:min(len(persons), o.NaiveUsers)]
	ids := map[string]string{}
	for _, e := range persons {
		if e.Value("nsAccountLock") == "true" {
			continue
		}
		id, err := c.createUser(ctx, e)
		if err != nil {
			return Naive{}, fmt.Errorf("naive baseline: %w", err)
		}
		ids[strings.ToLower(e.DN)] = id
	}
	for _, e := range persons {
		id := ids[strings.ToLower(e.DN)]
		if id == "" {
			continue
		}
		if err := c.license(ctx, id, e, skus); err != nil {
			return Naive{}, fmt.Errorf("naive baseline: %w", err)
		}
		if m := ids[strings.ToLower(e.Value("manager"))]; m != "" {
			ref := map[string]string{"@odata.id": c.base + "/v1.0/users/" + m}
			if _, err := c.do(ctx, http.MethodPut, "/v1.0/users/"+id+"/manager/$ref", ref); err != nil {
				return Naive{}, fmt.Errorf("naive baseline: %w", err)
			}
		}
	}
	cn := t.Counters()
	var total int64
	for _, r := range cn.Requests {
		total += r.Count
	}
	n := Naive{Users: len(ids), Writes: cn.WritesAccepted, Throttled: cn.Throttled, WritesPerSec: WriteRate(cn.WriteTimes)}
	if total > 0 {
		n.ThrottledShare = float64(cn.Throttled) / float64(total)
	}
	if times := sortedTimes(cn.WriteTimes); len(times) > 1 {
		n.Seconds = times[len(times)-1].Sub(times[0]).Seconds()
	}
	return n, nil
}

func (c *naiveClient) createUser(ctx context.Context, e ldapserver.Entry) (string, error) {
	mail := e.Value("mail")
	nick, _, _ := strings.Cut(mail, "@")
	body := map[string]any{
		"accountEnabled": true, "displayName": e.Value("cn"), "mailNickname": nick,
		"userPrincipalName": mail, "usageLocation": usageLocation(e),
		"passwordProfile": map[string]any{"password": "Naive-Bench-2026!" + nick, "forceChangePasswordNextSignIn": true},
	}
	out, err := c.do(ctx, http.MethodPost, "/v1.0/users", body)
	if err != nil {
		return "", err
	}
	var created struct {
		ID string `json:"id"`
	}
	if err := json.Unmarshal(out, &created); err != nil || created.ID == "" {
		return "", fmt.Errorf("create %s: no id in the answer", mail)
	}
	return created.ID, nil
}

func (c *naiveClient) license(ctx context.Context, id string, e ldapserver.Entry, skus map[string]string) error {
	var add []map[string]any
	for _, part := range e.Values("o365Sku") {
		if sku := skus[strings.ToUpper(part)]; sku != "" {
			add = append(add, map[string]any{"skuId": sku, "disabledPlans": []string{}})
		}
	}
	if len(add) == 0 {
		return nil
	}
	_, err := c.do(ctx, http.MethodPost, "/v1.0/users/"+id+"/assignLicense", map[string]any{"addLicenses": add, "removeLicenses": []string{}})
	return err
}

func usageLocation(e ldapserver.Entry) string {
	if c := e.Value("c"); len(c) == 2 {
		return strings.ToUpper(c)
	}
	return "US"
}
