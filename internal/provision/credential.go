package provision

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/o365prov/o365prov/internal/config"
	"github.com/o365prov/o365prov/internal/graph"
	"github.com/o365prov/o365prov/internal/state"
)

// credentialSetting is the state setting that keeps the health of the
// app's credential, for status.
const credentialSetting = "credential-health"

// expiryEvery is how often the credential's expiry is read from Graph:
// it changes only when an administrator adds a secret.
const expiryEvery = 24 * time.Hour

// CredentialHealth is what o365prov last learnt of the app's credential:
// when it last got a token, when it last failed to and why, and, where
// Graph told it, when the app's secrets and certificates expire.
type CredentialHealth struct {
	ClientID      string                `json:"clientId"`
	LastSuccess   time.Time             `json:"lastSuccess,omitzero"`
	LastFailure   time.Time             `json:"lastFailure,omitzero"`
	LastError     string                `json:"lastError,omitempty"`
	Credentials   []graph.AppCredential `json:"credentials,omitempty"`
	ExpiryRead    time.Time             `json:"expiryRead,omitzero"`
	ExpiryProblem string                `json:"expiryProblem,omitempty"` // why expiries could not be read
}

// ReadCredentialHealth reads what the last cycles recorded; ok is false
// when no cycle has tried yet.
func ReadCredentialHealth(ctx context.Context, st state.Store) (h CredentialHealth, ok bool, err error) {
	b, err := st.Setting(ctx, credentialSetting)
	if errors.Is(err, state.ErrNotFound) {
		return h, false, nil
	}
	if err != nil {
		return h, false, fmt.Errorf("read credential health: %w", err)
	}
	if err := json.Unmarshal(b, &h); err != nil {
		return h, false, fmt.Errorf("decode credential health: %w", err)
	}
	return h, true, nil
}

// credentialCheck proves at every cycle that the app can still get a
// token, and records the outcome for status. Channels share it, as they
// share the app.
type credentialCheck struct {
	c      *graph.Client
	store  state.Store
	target config.Target
	now    func() time.Time
	log    *slog.Logger

	mu sync.Mutex
}

// authenticate gets a token and records the outcome. A failure is an error
// that names the tenant and app and says what to do.
func (k *credentialCheck) authenticate(ctx context.Context) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	h, _, rerr := ReadCredentialHealth(ctx, k.store)
	if rerr != nil {
		k.log.Warn("credential health unreadable; starting afresh", "err", rerr)
	}
	h.ClientID = k.target.ClientID
	err := k.c.Authenticate(ctx)
	if err != nil {
		err = tenantError(k.target, err)
		h.LastFailure, h.LastError = k.now(), err.Error()
	} else {
		h.LastSuccess = k.now()
		if k.now().Sub(h.ExpiryRead) >= expiryEvery {
			k.readExpiry(ctx, &h)
		}
	}
	if werr := k.save(ctx, h); werr != nil && err == nil {
		k.log.Warn("record credential health", "err", werr)
	}
	return err
}

// readExpiry asks Graph when the app's credentials expire. Reading it needs
// Application.Read.All, which o365prov does not otherwise need: without
// it the expiry is unknown, and status says why.
func (k *credentialCheck) readExpiry(ctx context.Context, h *CredentialHealth) {
	creds, err := k.c.AppCredentials(ctx, k.target.ClientID)
	h.ExpiryRead = k.now()
	if err != nil {
		h.Credentials, h.ExpiryProblem = nil, expiryProblem(err)
		k.log.Debug("credential expiry unknown", "err", err)
		return
	}
	h.Credentials, h.ExpiryProblem = creds, ""
	for _, c := range creds {
		if c.Expires.IsZero() {
			continue // Graph gave no end date: nothing to warn of
		}
		if left := c.Expires.Sub(k.now()); left < 30*24*time.Hour {
			k.log.Warn("the app's credential expires soon: add a new one to the app registration and set it in target", "credential", c.Kind, "name", c.DisplayName, "expires", c.Expires, "in", left.Round(time.Hour))
		}
	}
}

func expiryProblem(err error) string {
	var ge *graph.Error
	if errors.As(err, &ge) && ge.Status == 403 {
		return "unknown: grant the app Application.Read.All (or Application.ReadWrite.OwnedBy on its own registration, which groups need anyway) to see when its secret or certificate expires"
	}
	return "unknown: " + err.Error()
}

func (k *credentialCheck) save(ctx context.Context, h CredentialHealth) error {
	b, err := json.Marshal(h)
	if err != nil {
		return err
	}
	return k.store.PutSetting(context.WithoutCancel(ctx), credentialSetting, b)
}

// tenantError explains a failure to get a token.
func tenantError(t config.Target, err error) error {
	se := &PeerError{What: fmt.Sprintf("tenant %s (app %s)", t.Tenant, t.ClientID), Err: err}
	msg := err.Error()
	if d := aadDescription(msg); d != "" {
		// MSAL quotes Entra's whole answer; its first line says it all.
		se.Err = fmt.Errorf("token refused by Entra: %s", d)
	}
	switch {
	case strings.Contains(msg, "AADSTS7000215"):
		se.Fix = "the client secret is wrong: set target.clientSecret to the secret's Value (not its Secret ID) from the app registration's Certificates & secrets"
	case strings.Contains(msg, "AADSTS7000222"):
		se.Fix = "the client secret has expired: add a new secret to the app registration (Certificates & secrets) and set target.clientSecret to it"
	case strings.Contains(msg, "AADSTS700016"):
		se.Fix = "no application with target.clientId in this tenant: check target.clientId and target.tenant"
	case strings.Contains(msg, "AADSTS90002"), strings.Contains(msg, "AADSTS900023"):
		se.Fix = "the tenant is not known: check target.tenant (its initial domain, e.g. contoso.onmicrosoft.com, or its GUID)"
	case strings.Contains(msg, "AADSTS700027"), strings.Contains(msg, "AADSTS700024"):
		se.Fix = "the certificate is not registered on the app, or has expired: upload target.clientCertificate to the app registration"
	case strings.Contains(msg, "AADSTS"):
		se.Fix = "Entra refused the app's credential: check target.tenant, target.clientId and the secret or certificate"
	default:
		se.Fix = "check that target.loginURL can be reached from here (proxy: target.proxy; private CA: target.caFile)"
	}
	return se
}

// aadDescription is the first line of the error_description in an Entra
// token error quoted in msg ("AADSTS7000215: Invalid client secret …"), or
// "" when there is none.
func aadDescription(msg string) string {
	_, rest, ok := strings.Cut(msg, `"error_description":"`)
	if !ok {
		return ""
	}
	end := len(rest)
	for _, stop := range []string{`\r\n`, `\n`, `"`} {
		if i := strings.Index(rest, stop); i >= 0 && i < end {
			end = i
		}
	}
	return rest[:end]
}
