package authz_test

import (
	"fmt"
	"math/rand/v2"
	"runtime"
	"sort"
	"testing"
	"time"

	"github.com/epom-cz/epom/tenants/authz"
)

func TestAllowed(t *testing.T) {
	a, err := authz.NewStatic(authz.KernelPermissions(), [][]string{
		{"user:anna", "role:tenant-admin", "tenant-a"},
		{"user:petr", "role:clerk", "tenant-a"},
		{"user:petr", "role:tenant-admin", "tenant-b"},
		{"user:root", "role:platform-admin", "platform"},
		{"user:op", "role:operator", "kraj:CZ051"},
	})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		user, domain, perm string
		want               bool
	}{
		{"anna", "tenant-a", "tenant.settings:write", true},
		{"anna", "tenant-b", "tenant.settings:write", false}, // another tenant
		{"anna", "tenant-a", "platform.tenants:read", false}, // platform permission in a tenant
		{"petr", "tenant-a", "tenant.settings:read", true},
		{"petr", "tenant-a", "tenant.settings:write", false}, // a clerk is no admin
		{"petr", "tenant-b", "tenant.settings:write", true},  // roles are per tenant
		{"root", "platform", "platform.tenants:write", true},
		{"root", "tenant-a", "tenant.settings:read", false}, // platform admins do not read agenda data
		{"op", "tenant-a", "tenant.settings:read", false},   // nor do regional operators
		{"nobody", "tenant-a", "tenant.settings:read", false},
	}
	for round := 0; round < 2; round++ { // the second round answers from the decision cache
		for _, tc := range cases {
			got, err := a.Allowed(tc.user, tc.domain, tc.perm)
			if err != nil || got != tc.want {
				t.Errorf("round %d: Allowed(%s, %s, %s) = %v, %v; want %v", round, tc.user, tc.domain, tc.perm, got, err, tc.want)
			}
		}
	}
	if _, err := a.Allowed("anna", "tenant-a", "no-colon"); err == nil {
		t.Error("malformed permission accepted")
	}
	if roles := a.RolesIn("petr", "tenant-b"); len(roles) != 1 || roles[0] != "tenant-admin" {
		t.Errorf("RolesIn: %v", roles)
	}
}

// TestIndexMatchesEnforce compares the indexed decision with casbin's evaluator on the
// benchmark's whole-country policy.
func TestIndexMatchesEnforce(t *testing.T) {
	perms, groups, tenants := country()
	a, err := authz.NewStatic(perms, groups)
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(7, 8))
	allowed := 0
	for i := 0; i < 3000; i++ {
		ti := r.IntN(len(tenants))
		dom := tenants[r.IntN(len(tenants))]
		if r.IntN(2) == 0 {
			dom = tenants[ti]
		}
		user := fmt.Sprintf("%d-%d", ti, r.IntN(5))
		perm := perms[r.IntN(len(perms))].String()
		if r.IntN(10) == 0 {
			perm = "unknown.object:read"
		}
		want, err := a.Enforce(user, dom, perm)
		if err != nil {
			t.Fatal(err)
		}
		got, err := a.Allowed(user, dom, perm)
		if err != nil || got != want {
			t.Fatalf("Allowed(%s, %s, %s) = %v, %v; Enforce says %v", user, dom, perm, got, err, want)
		}
		if got {
			allowed++
		}
	}
	if allowed == 0 {
		t.Fatal("no check was allowed: the comparison proves nothing")
	}
}

// country builds the policy of issue #4's benchmark: 6,258 tenants × 5 staff (one admin,
// three clerks, one auditor) and 200 role-permission rules.
func country() ([]authz.Permission, [][]string, []string) {
	var perms []authz.Permission
	roles := [][]string{{"tenant-admin"}, {"tenant-admin", "clerk"}, {"tenant-admin", "clerk", "auditor"}}
	for i := 0; len(perms) < 100; i++ {
		obj := fmt.Sprintf("module%d.object%d", i/5, i%5)
		perms = append(perms, authz.Permission{Object: obj, Action: "read", Roles: roles[2]})
	}
	rules := 0
	for _, p := range perms {
		rules += len(p.Roles)
	}
	for i := 0; rules < 200; i++ {
		r := roles[i%2]
		perms = append(perms, authz.Permission{Object: fmt.Sprintf("module%d.object%d", i/5, i%5), Action: "write", Roles: r})
		rules += len(r)
	}
	var groups [][]string
	var tenants []string
	for t := 0; t < 6258; t++ {
		dom := fmt.Sprintf("01990000-0000-7000-8000-%012d", t)
		tenants = append(tenants, dom)
		for s := 0; s < 5; s++ {
			role := "clerk"
			switch s {
			case 0:
				role = "tenant-admin"
			case 4:
				role = "auditor"
			}
			groups = append(groups, []string{fmt.Sprintf("user:%d-%d", t, s), "role:" + role, dom})
		}
	}
	return perms, groups, tenants
}

// BenchmarkEnforce reports the decision latency (p50/p99) without and with the decision
// cache, and the heap the enforcer holds.
//
//	go test -run '^$' -bench Enforce -benchtime 200000x ./tenants/authz/
func BenchmarkEnforce(b *testing.B) {
	perms, groups, tenants := country()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	a, err := authz.NewStatic(perms, groups)
	if err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	heapMiB := float64(after.HeapAlloc-before.HeapAlloc) / (1 << 20)

	query := func(r *rand.Rand) (string, string, string) {
		t := r.IntN(len(tenants))
		dom := tenants[t]
		if r.IntN(4) == 0 { // a quarter of the checks ask about another tenant
			dom = tenants[(t+1)%len(tenants)]
		}
		p := perms[r.IntN(len(perms))]
		return fmt.Sprintf("%d-%d", t, r.IntN(5)), dom, p.String()
	}
	percentiles := func(b *testing.B, d []time.Duration) {
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		b.ReportMetric(float64(d[len(d)/2].Nanoseconds()), "p50-ns")
		b.ReportMetric(float64(d[len(d)*99/100].Nanoseconds()), "p99-ns")
		b.ReportMetric(heapMiB, "enforcer-MiB")
	}
	b.Run("casbin-evaluator", func(b *testing.B) {
		r := rand.New(rand.NewPCG(1, 2))
		durations := make([]time.Duration, b.N)
		for i := 0; i < b.N; i++ {
			u, d, p := query(r)
			start := time.Now()
			if _, err := a.Enforce(u, d, p); err != nil {
				b.Fatal(err)
			}
			durations[i] = time.Since(start)
		}
		percentiles(b, durations)
	})
	b.Run("uncached", func(b *testing.B) {
		r := rand.New(rand.NewPCG(1, 2))
		durations := make([]time.Duration, b.N)
		for i := 0; i < b.N; i++ {
			u, d, p := query(r)
			start := time.Now()
			// A fresh user id per check defeats the decision cache.
			if _, err := a.Allowed(u, d, p); err != nil {
				b.Fatal(err)
			}
			durations[i] = time.Since(start)
			a.Forget()
		}
		percentiles(b, durations)
	})
	b.Run("cached", func(b *testing.B) {
		r := rand.New(rand.NewPCG(3, 4))
		u, d, p := query(r)
		if _, err := a.Allowed(u, d, p); err != nil {
			b.Fatal(err)
		}
		durations := make([]time.Duration, b.N)
		for i := 0; i < b.N; i++ {
			start := time.Now()
			if _, err := a.Allowed(u, d, p); err != nil {
				b.Fatal(err)
			}
			durations[i] = time.Since(start)
		}
		percentiles(b, durations)
	})
}
