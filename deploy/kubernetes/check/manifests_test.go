// Package check decodes the Kubernetes manifests of deploy/kubernetes
// strictly with the Kubernetes API's own Go types: an unknown or misspelt
// field, a wrong type or a wrong apiVersion fails. It is a module of its own
// so that k8s.io/api never enters o365prov's go.mod. Run with `make
// k8s-check`.
package check

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"sigs.k8s.io/yaml"

	"github.com/o365prov/o365prov/internal/config"
)

// manifests are the files `kubectl apply -k` applies, and the example.
const dir = ".."

// typed is a new object of the Go type for an apiVersion and kind.
func typed(apiVersion, kind string) (any, bool) {
	switch apiVersion + "/" + kind {
	case "v1/ConfigMap":
		return &corev1.ConfigMap{}, true
	case "v1/Secret":
		return &corev1.Secret{}, true
	case "v1/Service":
		return &corev1.Service{}, true
	case "apps/v1/Deployment":
		return &appsv1.Deployment{}, true
	case "policy/v1/PodDisruptionBudget":
		return &policyv1.PodDisruptionBudget{}, true
	}
	return nil, false
}

// objects decodes every manifest in dir strictly, by kind.
func objects(t *testing.T) map[string]any {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in %s: %v", dir, err)
	}
	out := map[string]any{}
	for _, f := range files {
		if filepath.Base(f) == "kustomization.yaml" {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for i, doc := range bytes.Split(data, []byte("\n---\n")) {
			var head struct {
				APIVersion string `json:"apiVersion"`
				Kind       string `json:"kind"`
			}
			if err := yaml.Unmarshal(doc, &head); err != nil {
				t.Fatalf("%s document %d: %v", f, i, err)
			}
			obj, ok := typed(head.APIVersion, head.Kind)
			if !ok {
				t.Fatalf("%s document %d: %s %s is not a kind this check knows", f, i, head.APIVersion, head.Kind)
			}
			if err := yaml.UnmarshalStrict(doc, obj); err != nil {
				t.Errorf("%s document %d (%s): %v", f, i, head.Kind, err)
				continue
			}
			out[fmt.Sprintf("%s/%s", head.Kind, filepath.Base(f))] = obj
		}
	}
	return out
}

func one[T any](t *testing.T, objs map[string]any) T {
	t.Helper()
	var found []T
	for _, o := range objs {
		if v, ok := o.(T); ok {
			found = append(found, v)
		}
	}
	if len(found) != 1 {
		var zero T
		t.Fatalf("%d objects of type %T, want 1", len(found), zero)
	}
	return found[0]
}

func TestManifestsDecodeStrictly(t *testing.T) {
	objects(t)
}

func TestTheStrictDecoderRefusesAMisspeltField(t *testing.T) {
	doc := []byte("apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: x}\nspec: {maxUnavailabel: 1}\n")
	if err := yaml.UnmarshalStrict(doc, &policyv1.PodDisruptionBudget{}); err == nil {
		t.Fatal("a misspelt field decoded without error: the check could not fail")
	}
}

func TestKustomizationListsEveryManifestButTheExample(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(dir, "kustomization.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var k struct {
		APIVersion string   `json:"apiVersion"`
		Kind       string   `json:"kind"`
		Resources  []string `json:"resources"`
	}
	if err := yaml.UnmarshalStrict(data, &k); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.yaml"))
	var want []string
	for _, f := range files {
		if b := filepath.Base(f); b != "kustomization.yaml" && !strings.HasSuffix(b, ".example.yaml") {
			want = append(want, b)
		}
	}
	slices.Sort(k.Resources)
	if !slices.Equal(k.Resources, want) {
		t.Errorf("kustomization lists %v, want %v", k.Resources, want)
	}
}

func TestDeploymentIsWiredToItsConfigSecretsAndBudget(t *testing.T) {
	objs := objects(t)
	d := one[*appsv1.Deployment](t, objs)
	cm := one[*corev1.ConfigMap](t, objs)
	secret := one[*corev1.Secret](t, objs)
	pdb := one[*policyv1.PodDisruptionBudget](t, objs)
	svc := one[*corev1.Service](t, objs)
	pod := d.Spec.Template
	if len(pod.Spec.Containers) != 1 {
		t.Fatalf("%d containers, want 1", len(pod.Spec.Containers))
	}
	c := pod.Spec.Containers[0]

	t.Run("probes ask /healthz on the console port", func(t *testing.T) {
		for name, p := range map[string]*corev1.Probe{"readiness": c.ReadinessProbe, "liveness": c.LivenessProbe} {
			if p == nil || p.HTTPGet == nil || p.HTTPGet.Path != "/healthz" || p.HTTPGet.Port.String() != "console" || p.HTTPGet.Scheme != corev1.URISchemeHTTPS {
				t.Errorf("%s probe = %+v, want GET https /healthz on port console", name, p)
			}
		}
		if !slices.ContainsFunc(c.Ports, func(p corev1.ContainerPort) bool { return p.Name == "console" && p.ContainerPort == 9090 }) {
			t.Errorf("ports %+v lack console 9090", c.Ports)
		}
	})
	t.Run("every secret comes from the Secret by a key it has", func(t *testing.T) {
		refs := 0
		for _, e := range c.Env {
			if e.Value != "" && strings.Contains(strings.ToLower(e.Name), "secret") {
				t.Errorf("env %s holds a literal value", e.Name)
			}
			if r := e.ValueFrom; r != nil && r.SecretKeyRef != nil {
				refs++
				if r.SecretKeyRef.Name != secret.Name {
					t.Errorf("env %s refers to Secret %s, want %s", e.Name, r.SecretKeyRef.Name, secret.Name)
				}
				if _, ok := secret.StringData[r.SecretKeyRef.Key]; !ok {
					t.Errorf("env %s refers to key %s, which the example Secret lacks", e.Name, r.SecretKeyRef.Key)
				}
			}
		}
		if refs == 0 {
			t.Error("no environment variable comes from the Secret")
		}
	})
	t.Run("the configuration is the ConfigMap, and o365prov accepts it", func(t *testing.T) {
		var mounted bool
		for _, v := range pod.Spec.Volumes {
			if v.ConfigMap != nil && v.ConfigMap.Name == cm.Name {
				mounted = true
			}
		}
		if !mounted {
			t.Errorf("ConfigMap %s is not mounted", cm.Name)
		}
		env := map[string]string{}
		for _, e := range c.Env {
			if e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil {
				env[e.Name] = secret.StringData[e.ValueFrom.SecretKeyRef.Key]
			}
		}
		// The files the pod mounts, placed where this test can read them.
		tls := t.TempDir()
		for _, f := range []string{"tls.crt", "tls.key"} {
			if err := os.WriteFile(filepath.Join(tls, f), []byte("mounted from a Secret"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		doc := strings.ReplaceAll(cm.Data["o365prov.yaml"], "/etc/o365prov/tls/", tls+"/")
		_, err := config.Parse("configmap.yaml#o365prov.yaml", []byte(doc),
			config.WithEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok }))
		if err != nil {
			t.Errorf("o365prov check of the ConfigMap's configuration: %v", err)
		}
	})
	t.Run("the pod runs unprivileged on a read-only root", func(t *testing.T) {
		psc, sc := pod.Spec.SecurityContext, c.SecurityContext
		if psc == nil || psc.RunAsNonRoot == nil || !*psc.RunAsNonRoot {
			t.Error("pod does not require a non-root user")
		}
		if sc == nil || sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem ||
			sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation || sc.Capabilities == nil ||
			!slices.Contains(sc.Capabilities.Drop, "ALL") {
			t.Errorf("container security context %+v is not locked down", sc)
		}
	})
	t.Run("a stop has time to finish its operations in flight", func(t *testing.T) {
		if g := pod.Spec.TerminationGracePeriodSeconds; g == nil || *g < 30 {
			t.Errorf("terminationGracePeriodSeconds %v, want at least 30 (o365prov stops within 20 s)", g)
		}
	})
	t.Run("the budget and the service select the deployment's pods", func(t *testing.T) {
		labels := pod.Labels
		for what, sel := range map[string]map[string]string{"PodDisruptionBudget": pdb.Spec.Selector.MatchLabels, "Service": svc.Spec.Selector} {
			for k, v := range sel {
				if labels[k] != v {
					t.Errorf("%s selects %s=%s, which the pods lack", what, k, v)
				}
			}
		}
		if pdb.Spec.MaxUnavailable == nil || pdb.Spec.MaxUnavailable.IntValue() != 1 {
			t.Errorf("budget allows %v unavailable, want 1", pdb.Spec.MaxUnavailable)
		}
		if d.Spec.Replicas == nil || *d.Spec.Replicas < 2 {
			t.Errorf("%v replicas: a cluster needs at least 2", d.Spec.Replicas)
		}
	})
}
