package msgraphsdk

import (
	"context"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"maps"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/google/uuid"
	abstractions "github.com/microsoft/kiota-abstractions-go"
	"github.com/microsoft/kiota-abstractions-go/serialization"
	"github.com/microsoft/kiota-abstractions-go/store"
	kiotaauth "github.com/microsoft/kiota-authentication-azure-go"
	khttp "github.com/microsoft/kiota-http-go"
	formserialization "github.com/microsoft/kiota-serialization-form-go"
	jsonserialization "github.com/microsoft/kiota-serialization-json-go"
	multipartserialization "github.com/microsoft/kiota-serialization-multipart-go"
	textserialization "github.com/microsoft/kiota-serialization-text-go"
	msgraphgocore "github.com/microsoftgraph/msgraph-sdk-go-core"
	"github.com/microsoftgraph/msgraph-sdk-go/directory"
	"github.com/microsoftgraph/msgraph-sdk-go/domains"
	"github.com/microsoftgraph/msgraph-sdk-go/groups"
	"github.com/microsoftgraph/msgraph-sdk-go/models"
	"github.com/microsoftgraph/msgraph-sdk-go/models/odataerrors"
	"github.com/microsoftgraph/msgraph-sdk-go/subscribedskus"
	"github.com/microsoftgraph/msgraph-sdk-go/users"
)

// graphScope is the scope a daemon asks for; the fake issues tokens for it.
var graphScope = []string{"https://graph.microsoft.com/.default"}

// graphClient is GraphServiceClient's wiring (msgraph-sdk-go's
// NewGraphBaseServiceClient) limited to the areas o365prov uses. The
// facade imports all of the SDK's ~40 request-builder packages, which more
// than doubles a cold build; the areas below are the SDK's own packages,
// unmodified, on the same adapter and middleware.
type graphClient struct {
	adapter abstractions.RequestAdapter
	params  map[string]string
}

func newGraphClient(adapter abstractions.RequestAdapter) *graphClient {
	abstractions.RegisterDefaultSerializer(func() serialization.SerializationWriterFactory {
		return jsonserialization.NewJsonSerializationWriterFactory()
	})
	abstractions.RegisterDefaultSerializer(func() serialization.SerializationWriterFactory {
		return textserialization.NewTextSerializationWriterFactory()
	})
	abstractions.RegisterDefaultSerializer(func() serialization.SerializationWriterFactory {
		return formserialization.NewFormSerializationWriterFactory()
	})
	abstractions.RegisterDefaultSerializer(func() serialization.SerializationWriterFactory {
		return multipartserialization.NewMultipartSerializationWriterFactory()
	})
	abstractions.RegisterDefaultDeserializer(func() serialization.ParseNodeFactory {
		return jsonserialization.NewJsonParseNodeFactory()
	})
	abstractions.RegisterDefaultDeserializer(func() serialization.ParseNodeFactory {
		return textserialization.NewTextParseNodeFactory()
	})
	abstractions.RegisterDefaultDeserializer(func() serialization.ParseNodeFactory {
		return formserialization.NewFormParseNodeFactory()
	})
	adapter.EnableBackingStore(store.BackingStoreFactoryInstance)
	return &graphClient{adapter: adapter, params: map[string]string{"baseurl": adapter.GetBaseUrl()}}
}

func (c *graphClient) path() map[string]string { return maps.Clone(c.params) }

func (c *graphClient) Users() *users.UsersRequestBuilder {
	return users.NewUsersRequestBuilderInternal(c.path(), c.adapter)
}

func (c *graphClient) Groups() *groups.GroupsRequestBuilder {
	return groups.NewGroupsRequestBuilderInternal(c.path(), c.adapter)
}

func (c *graphClient) Directory() *directory.DirectoryRequestBuilder {
	return directory.NewDirectoryRequestBuilderInternal(c.path(), c.adapter)
}

func (c *graphClient) Domains() *domains.DomainsRequestBuilder {
	return domains.NewDomainsRequestBuilderInternal(c.path(), c.adapter)
}

func (c *graphClient) SubscribedSkus() *subscribedskus.SubscribedSkusRequestBuilder {
	return subscribedskus.NewSubscribedSkusRequestBuilderInternal(c.path(), c.adapter)
}

// newClient builds a Graph client the way the SDK's documentation shows for
// a daemon (client secret credential, default middleware with compression),
// changing only what pointing at another host needs: the authority, the
// trusted CA, instance discovery (it would go to login.microsoftonline.com)
// and the base URL.
func newClient(t *testing.T, ft *fakeTenant) (*graphClient, *wireLog) {
	t.Helper()
	wire := newWireLog(ft.roots)
	cred, err := azidentity.NewClientSecretCredential(ft.tenantID, ft.clientID, ft.secret, &azidentity.ClientSecretCredentialOptions{
		ClientOptions: azcore.ClientOptions{
			Cloud:     cloud.Configuration{ActiveDirectoryAuthorityHost: ft.base + "/"},
			Transport: &http.Client{Transport: wire},
		},
		DisableInstanceDiscovery: true,
	})
	if err != nil {
		t.Fatalf("client secret credential: %v", err)
	}
	u, err := url.Parse(ft.base)
	if err != nil {
		t.Fatal(err)
	}
	auth, err := kiotaauth.NewAzureIdentityAuthenticationProviderWithScopesAndValidHosts(cred, graphScope, []string{u.Hostname()})
	if err != nil {
		t.Fatalf("authentication provider: %v", err)
	}
	options := msgraphgocore.GraphClientOptions{GraphServiceLibraryVersion: "conformance"}
	middleware := msgraphgocore.GetDefaultMiddlewaresWithOptions(&options)
	httpClient := &http.Client{Transport: khttp.NewCustomTransportWithParentTransport(wire, middleware...)}
	adapter, err := msgraphgocore.NewGraphRequestAdapterBaseWithParseNodeFactoryAndSerializationWriterFactoryAndHttpClient(auth, options, nil, nil, httpClient)
	if err != nil {
		t.Fatalf("request adapter: %v", err)
	}
	adapter.SetBaseUrl(ft.base + "/v1.0")
	return newGraphClient(adapter), wire
}

func ptr[T any](v T) *T { return &v }

// graphCode is the error code of an OData error, or "" for another error.
func graphCode(err error) string {
	var oe *odataerrors.ODataError
	if errors.As(err, &oe) && oe.GetErrorEscaped() != nil && oe.GetErrorEscaped().GetCode() != nil {
		return *oe.GetErrorEscaped().GetCode()
	}
	return ""
}

func statusOf(err error) int {
	var oe *odataerrors.ODataError
	if errors.As(err, &oe) {
		return oe.ResponseStatusCode
	}
	return 0
}

func newUser(alias string) models.Userable {
	u := models.NewUser()
	u.SetAccountEnabled(ptr(true))
	u.SetDisplayName(ptr("SDK " + alias))
	u.SetMailNickname(ptr(alias))
	u.SetUserPrincipalName(ptr(alias + "@contoso.com"))
	pp := models.NewPasswordProfile()
	pp.SetForceChangePasswordNextSignIn(ptr(true))
	pp.SetPassword(ptr("xWwvJ]6NMw+bWH-d"))
	u.SetPasswordProfile(pp)
	return u
}

func directoryObjectRef(id string) string {
	return "https://graph.microsoft.com/v1.0/directoryObjects/" + id
}

func eventualHeaders() *abstractions.RequestHeaders {
	h := abstractions.NewRequestHeaders()
	h.Add("ConsistencyLevel", "eventual")
	return h
}

// idpCertificate is the test IdP's signing certificate as base64 DER, the
// form internalDomainFederation takes.
func idpCertificate(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "internal", "faketenant", "testdata", "idp-signing.pem"))
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		t.Fatal("idp-signing.pem holds no PEM block")
	}
	return base64.StdEncoding.EncodeToString(block.Bytes)
}

// TestSDKAgainstFakeTenant drives the fake tenant with msgraph-sdk-go,
// unmodified and with compression on, through every operation o365prov
// uses. The steps share one tenant and run in order.
func TestSDKAgainstFakeTenant(t *testing.T) {
	ft := startFakeTenant(t)
	client, wire := newClient(t, ft)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var userID, managerID, groupID string

	step := func(name string, fn func(t *testing.T)) {
		if !t.Run(name, fn) {
			t.FailNow()
		}
	}
	step("a user is created", func(t *testing.T) {
		u, err := client.Users().Post(ctx, newUser("sdkadele"), nil)
		if err != nil {
			t.Fatalf("create user: %v (code %q)", err, graphCode(err))
		}
		userID = *u.GetId()
		m, err := client.Users().Post(ctx, newUser("sdkmanager"), nil)
		if err != nil {
			t.Fatalf("create manager: %v (code %q)", err, graphCode(err))
		}
		managerID = *m.GetId()
	})
	step("the user is read back by id and by UPN", func(t *testing.T) {
		for _, key := range []string{userID, "sdkadele@contoso.com"} {
			u, err := client.Users().ByUserId(key).Get(ctx, nil)
			if err != nil {
				t.Fatalf("get %s: %v", key, err)
			}
			if *u.GetId() != userID || *u.GetUserPrincipalName() != "sdkadele@contoso.com" {
				t.Fatalf("got %s %s", *u.GetId(), *u.GetUserPrincipalName())
			}
		}
	})
	step("the user is updated", func(t *testing.T) {
		patch := models.NewUser()
		patch.SetJobTitle(ptr("Conformance"))
		patch.SetUsageLocation(ptr("GB"))
		if _, err := client.Users().ByUserId(userID).Patch(ctx, patch, nil); err != nil {
			t.Fatalf("patch: %v (code %q)", err, graphCode(err))
		}
		u, err := client.Users().ByUserId(userID).Get(ctx, &users.UserItemRequestBuilderGetRequestConfiguration{
			QueryParameters: &users.UserItemRequestBuilderGetQueryParameters{Select: []string{"id", "jobTitle", "usageLocation"}},
		})
		if err != nil {
			t.Fatalf("get: %v", err)
		}
		if u.GetJobTitle() == nil || *u.GetJobTitle() != "Conformance" {
			t.Fatalf("jobTitle %v after PATCH", u.GetJobTitle())
		}
	})
	step("the user's manager is set and read", func(t *testing.T) {
		ref := models.NewReferenceUpdate()
		ref.SetOdataId(ptr(directoryObjectRef(managerID)))
		if err := client.Users().ByUserId(userID).Manager().Ref().Put(ctx, ref, nil); err != nil {
			t.Fatalf("set manager: %v (code %q)", err, graphCode(err))
		}
		m, err := client.Users().ByUserId(userID).Manager().Get(ctx, nil)
		if err != nil {
			t.Fatalf("get manager: %v", err)
		}
		if *m.GetId() != managerID {
			t.Fatalf("manager %s, want %s", *m.GetId(), managerID)
		}
	})
	step("a licence is assigned", func(t *testing.T) {
		skus, err := client.SubscribedSkus().Get(ctx, nil)
		if err != nil || len(skus.GetValue()) == 0 {
			t.Fatalf("subscribed SKUs: %v, %d", err, len(skus.GetValue()))
		}
		lic := models.NewAssignedLicense()
		lic.SetSkuId(skus.GetValue()[0].GetSkuId())
		body := users.NewItemAssignLicensePostRequestBody()
		body.SetAddLicenses([]models.AssignedLicenseable{lic})
		body.SetRemoveLicenses([]uuid.UUID{}) // Graph requires the property, even empty
		u, err := client.Users().ByUserId(userID).AssignLicense().Post(ctx, body, nil)
		if err != nil {
			t.Fatalf("assignLicense: %v (code %q)", err, graphCode(err))
		}
		if len(u.GetAssignedLicenses()) != 1 || *u.GetAssignedLicenses()[0].GetSkuId() != *lic.GetSkuId() {
			t.Fatalf("assignedLicenses %v", u.GetAssignedLicenses())
		}
	})
	step("a group is created, updated and given a member", func(t *testing.T) {
		g := models.NewGroup()
		g.SetDisplayName(ptr("SDK staff"))
		g.SetMailNickname(ptr("sdkstaff"))
		g.SetMailEnabled(ptr(false))
		g.SetSecurityEnabled(ptr(true))
		g.SetGroupTypes([]string{})
		created, err := client.Groups().Post(ctx, g, nil)
		if err != nil {
			t.Fatalf("create group: %v (code %q)", err, graphCode(err))
		}
		groupID = *created.GetId()
		patch := models.NewGroup()
		patch.SetDescription(ptr("made by the SDK"))
		if _, err := client.Groups().ByGroupId(groupID).Patch(ctx, patch, nil); err != nil {
			t.Fatalf("patch group: %v (code %q)", err, graphCode(err))
		}
		ref := models.NewReferenceCreate()
		ref.SetOdataId(ptr(directoryObjectRef(userID)))
		if err := client.Groups().ByGroupId(groupID).Members().Ref().Post(ctx, ref, nil); err != nil {
			t.Fatalf("add member: %v (code %q)", err, graphCode(err))
		}
		err = client.Groups().ByGroupId(groupID).Members().Ref().Post(ctx, ref, nil)
		if statusOf(err) != http.StatusBadRequest {
			t.Fatalf("adding a member twice: %v, want a 400", err)
		}
	})
	step("members are listed plainly and through the graph.user cast", func(t *testing.T) {
		all, err := client.Groups().ByGroupId(groupID).Members().Get(ctx, nil)
		if err != nil {
			t.Fatalf("members: %v", err)
		}
		if ids := objectIDs(all.GetValue()); !slices.Equal(ids, []string{userID}) {
			t.Fatalf("members %v", ids)
		}
		typed, err := client.Groups().ByGroupId(groupID).Members().GraphUser().Get(ctx, &groups.ItemMembersGraphUserRequestBuilderGetRequestConfiguration{
			Headers:         eventualHeaders(),
			QueryParameters: &groups.ItemMembersGraphUserRequestBuilderGetQueryParameters{Count: ptr(true)},
		})
		if err != nil {
			t.Fatalf("members/graph.user: %v (code %q)", err, graphCode(err))
		}
		if len(typed.GetValue()) != 1 || *typed.GetValue()[0].GetId() != userID || typed.GetOdataCount() == nil || *typed.GetOdataCount() != 1 {
			t.Fatalf("members/graph.user gave %d users, count %v", len(typed.GetValue()), typed.GetOdataCount())
		}
		if err := client.Groups().ByGroupId(groupID).Members().ByDirectoryObjectId(userID).Ref().Delete(ctx, nil); err != nil {
			t.Fatalf("remove member: %v", err)
		}
	})
	step("a deleted user is listed in deletedItems and restored", func(t *testing.T) {
		if err := client.Users().ByUserId(userID).Delete(ctx, nil); err != nil {
			t.Fatalf("delete user: %v", err)
		}
		if _, err := client.Users().ByUserId(userID).Get(ctx, nil); statusOf(err) != http.StatusNotFound {
			t.Fatalf("get after delete: %v, want 404", err)
		}
		deleted, err := client.Directory().DeletedItems().GraphUser().Get(ctx, nil)
		if err != nil {
			t.Fatalf("deletedItems/graph.user: %v (code %q)", err, graphCode(err))
		}
		if !slices.Contains(userIDs(deleted.GetValue()), userID) {
			t.Fatalf("deleted users %v lack %s", userIDs(deleted.GetValue()), userID)
		}
		restored, err := client.Directory().DeletedItems().ByDirectoryObjectId(userID).Restore().Post(ctx, nil)
		if err != nil {
			t.Fatalf("restore: %v (code %q)", err, graphCode(err))
		}
		if *restored.GetId() != userID {
			t.Fatalf("restored %s", *restored.GetId())
		}
		if _, err := client.Users().ByUserId(userID).Get(ctx, nil); err != nil {
			t.Fatalf("get after restore: %v", err)
		}
	})
	step("a security group is deleted for good, a Microsoft 365 group is soft-deleted and purged", func(t *testing.T) {
		if err := client.Groups().ByGroupId(groupID).Delete(ctx, nil); err != nil {
			t.Fatalf("delete security group: %v", err)
		}
		if _, err := client.Directory().DeletedItems().ByDirectoryObjectId(groupID).Get(ctx, nil); statusOf(err) != http.StatusNotFound {
			t.Fatalf("deleted security group in deleted items: %v, want 404", err)
		}
		g := models.NewGroup()
		g.SetDisplayName(ptr("SDK team"))
		g.SetMailNickname(ptr("sdkteam"))
		g.SetMailEnabled(ptr(true))
		g.SetSecurityEnabled(ptr(false))
		g.SetGroupTypes([]string{"Unified"})
		team, err := client.Groups().Post(ctx, g, nil)
		if err != nil {
			t.Fatalf("create Microsoft 365 group: %v (code %q)", err, graphCode(err))
		}
		if err := client.Groups().ByGroupId(*team.GetId()).Delete(ctx, nil); err != nil {
			t.Fatalf("delete Microsoft 365 group: %v", err)
		}
		deleted, err := client.Directory().DeletedItems().GraphGroup().Get(ctx, nil)
		if err != nil || len(deleted.GetValue()) != 1 || *deleted.GetValue()[0].GetId() != *team.GetId() {
			t.Fatalf("deletedItems/graph.group: %v (code %q)", err, graphCode(err))
		}
		if err := client.Directory().DeletedItems().ByDirectoryObjectId(*team.GetId()).Delete(ctx, nil); err != nil {
			t.Fatalf("purge group: %v", err)
		}
		if _, err := client.Directory().DeletedItems().ByDirectoryObjectId(*team.GetId()).Get(ctx, nil); statusOf(err) != http.StatusNotFound {
			t.Fatalf("get purged group: %v, want 404", err)
		}
	})
	step("a domain is read and federated", func(t *testing.T) {
		d, err := client.Domains().ByDomainId("contoso.com").Get(ctx, nil)
		if err != nil {
			t.Fatalf("get domain: %v", err)
		}
		if d.GetAuthenticationType() == nil || *d.GetAuthenticationType() != "Managed" {
			t.Fatalf("authenticationType %v", d.GetAuthenticationType())
		}
		fed := models.NewInternalDomainFederation()
		fed.SetDisplayName(ptr("Contoso IdP"))
		fed.SetIssuerUri(ptr("http://idp.contoso.com/adfs/services/trust"))
		fed.SetPassiveSignInUri(ptr("https://idp.contoso.com/adfs/ls"))
		fed.SetSignOutUri(ptr("https://idp.contoso.com/adfs/ls?wa=wsignout1.0"))
		fed.SetSigningCertificate(ptr(idpCertificate(t)))
		fed.SetPreferredAuthenticationProtocol(ptr(models.WSFED_AUTHENTICATIONPROTOCOL))
		fed.SetFederatedIdpMfaBehavior(ptr(models.ACCEPTIFMFADONEBYFEDERATEDIDP_FEDERATEDIDPMFABEHAVIOR))
		created, err := client.Domains().ByDomainId("contoso.com").FederationConfiguration().Post(ctx, fed, nil)
		if err != nil {
			t.Fatalf("federate: %v (code %q)", err, graphCode(err))
		}
		list, err := client.Domains().ByDomainId("contoso.com").FederationConfiguration().Get(ctx, nil)
		if err != nil || len(list.GetValue()) != 1 || *list.GetValue()[0].GetId() != *created.GetId() {
			t.Fatalf("federation list: %v", err)
		}
		patch := models.NewInternalDomainFederation()
		patch.SetPassiveSignInUri(ptr("https://idp2.contoso.com/adfs/ls"))
		if _, err := client.Domains().ByDomainId("contoso.com").FederationConfiguration().ByInternalDomainFederationId(*created.GetId()).Patch(ctx, patch, nil); err != nil {
			t.Fatalf("patch federation: %v (code %q)", err, graphCode(err))
		}
		d, err = client.Domains().ByDomainId("contoso.com").Get(ctx, nil)
		if err != nil || *d.GetAuthenticationType() != "Federated" {
			t.Fatalf("domain after federation: %v", err)
		}
	})
	gzipped, unsupported := wire.counts()
	if gzipped == 0 {
		t.Fatal("no request went out gzip-compressed: the SDK's compression handler did not run")
	}
	if unsupported != 0 {
		t.Fatalf("%d requests were answered 415 and retried uncompressed", unsupported)
	}
	t.Logf("%d request bodies went out gzip-compressed", gzipped)
}

func objectIDs(objs []models.DirectoryObjectable) []string {
	var out []string
	for _, o := range objs {
		out = append(out, *o.GetId())
	}
	return out
}

func userIDs(us []models.Userable) []string {
	var out []string
	for _, u := range us {
		out = append(out, *u.GetId())
	}
	return out
}
