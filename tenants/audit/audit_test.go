package audit_test

import (
	"context"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/epom-cz/epom/tenants"
	"github.com/epom-cz/epom/tenants/audit"
	"github.com/epom-cz/epom/tenants/tenanttest"
)

func seed(t *testing.T) (*tenanttest.Env, *audit.Log, context.Context, context.Context) {
	t.Helper()
	e := tenanttest.New(t)
	ctxA, ctxB := e.Two(t)
	log := audit.New(e.DB, e.Platform)
	ctx := context.Background()
	for i, ev := range []audit.Event{
		{Actor: "starosta@liberec.cz", IP: "192.0.2.1", Action: "sign-in"},
		{Actor: "starosta@liberec.cz", Action: "role-granted", Target: "urednik@liberec.cz", Details: map[string]string{"role": "clerk"}},
		{Actor: "starosta@liberec.cz", Action: "settings-changed"},
	} {
		if err := log.Tenant(ctxA, ev); err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
	}
	if err := log.Tenant(ctxB, audit.Event{Actor: "system", Action: "module-enabled", Target: "noticeboard"}); err != nil {
		t.Fatal(err)
	}
	b, _ := tenants.FromContext(ctxB)
	if err := log.TenantByPlatform(ctx, b.ID, audit.Event{Actor: "admin@epom.cz", Action: "tenant-status", Details: map[string]string{"to": "active"}}); err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"sign-in", "sign-in-failed"} {
		if err := log.Platform(ctx, audit.Event{Actor: "admin@epom.cz", Action: a}); err != nil {
			t.Fatal(err)
		}
	}
	return e, log, ctxA, ctxB
}

func verify(t *testing.T, log *audit.Log) audit.Report {
	t.Helper()
	rep, err := log.Verify(context.Background(), uuid.Nil)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestIntactChainsVerify(t *testing.T) {
	_, log, ctxA, ctxB := seed(t)
	rep := verify(t, log)
	if !rep.OK() || rep.Chains != 3 || rep.Entries != 7 {
		t.Fatalf("report %+v", rep)
	}
	// A tenant reads its own chain only.
	got, err := log.Recent(ctxA, 10)
	if err != nil || len(got) != 3 || got[0].Action != "settings-changed" || got[1].Details["role"] != "clerk" {
		t.Fatalf("recent A: %+v %v", got, err)
	}
	got, _ = log.Recent(ctxB, 10)
	for _, e := range got {
		if strings.Contains(e.Actor, "liberec") {
			t.Fatalf("tenant B sees A's entry %+v", e)
		}
	}
}

// tamper runs SQL as the owner with row-level security relaxed, as someone with direct
// database access would.
func tamper(t *testing.T, e *tenanttest.Env, sql string) {
	t.Helper()
	ctx := context.Background()
	for _, s := range []string{`ALTER TABLE tenant_audit_log NO FORCE ROW LEVEL SECURITY`, sql, `ALTER TABLE tenant_audit_log FORCE ROW LEVEL SECURITY`} {
		if _, err := e.Owner.Exec(ctx, s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func TestVerifyDetectsTampering(t *testing.T) {
	cases := []struct {
		name, sql, want string
	}{
		{"altered detail", `UPDATE tenant_audit_log SET details = '{"role":"tenant-admin"}' WHERE seq = 2 AND action = 'role-granted'`, "altered"},
		{"altered actor", `UPDATE tenant_audit_log SET actor = 'someone@else.cz' WHERE seq = 1 AND action = 'sign-in'`, "altered"},
		{"deleted entry", `DELETE FROM tenant_audit_log WHERE action = 'role-granted'`, "missing"},
		{"cut tail", `DELETE FROM tenant_audit_log WHERE action = 'settings-changed'`, "removed"},
		{"platform entry", `UPDATE platform_audit_log SET action = 'sign-in' WHERE action = 'sign-in-failed'`, "altered"},
		{"whole chain", `DELETE FROM tenant_audit_log WHERE action IN ('module-enabled', 'tenant-status')`, "none are left"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e, log, _, _ := seed(t)
			tamper(t, e, tc.sql)
			rep := verify(t, log)
			if rep.OK() {
				t.Fatal("tampering not detected")
			}
			if !strings.Contains(rep.Problems[0].String(), tc.want) {
				t.Fatalf("problems %v, want one saying %q", rep.Problems, tc.want)
			}
		})
	}
}

func TestAppRoleCannotRewriteHistory(t *testing.T) {
	e, _, ctxA, _ := seed(t)
	for _, sql := range []string{`UPDATE tenant_audit_log SET actor = 'x'`, `DELETE FROM tenant_audit_log`} {
		err := e.DB.InTx(ctxA, func(ctx context.Context) error { return tenants.DB(ctx).Exec(sql).Error })
		if err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Errorf("%s as the app role: %v", sql, err)
		}
	}
}

func TestEntryCommitsWithTheChange(t *testing.T) {
	e, log, ctxA, _ := seed(t)
	_ = e.DB.InTx(ctxA, func(ctx context.Context) error {
		if err := log.Tenant(ctx, audit.Event{Actor: "x", Action: "settings-changed"}); err != nil {
			t.Fatal(err)
		}
		return context.Canceled // the change fails: its entry must go too
	})
	got, _ := log.Recent(ctxA, 10)
	if len(got) != 3 {
		t.Fatalf("rolled-back entry kept: %d entries", len(got))
	}
	if rep := verify(t, log); !rep.OK() {
		t.Fatalf("rollback broke the chain: %v", rep.Problems)
	}
}
