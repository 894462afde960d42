package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/google/uuid"

	"github.com/epom-cz/epom/internal/config"
	"github.com/epom-cz/epom/tenants"
	"github.com/epom-cz/epom/tenants/audit"
	"github.com/epom-cz/epom/tenants/identity"
)

const secretsUsage = `usage:
  epom secrets rotate [-dry-run] [-batch N]
    After EPOM_SECRET_KEY was changed (the old key moved to EPOM_SECRET_KEY_PREVIOUS):
    re-encrypts every TOTP secret not under the current key, a batch per transaction (safe to
    interrupt and run again), and reports what still depends on an earlier key. The run is
    in the platform's audit log with this OS user as the actor; -dry-run writes nothing.`

func runSecrets(ctx context.Context, cfg config.Config, args []string, out io.Writer) error {
	if len(args) == 0 || args[0] != "rotate" {
		return usagef(secretsUsage)
	}
	fs := flag.NewFlagSet("secrets rotate", flag.ContinueOnError)
	fs.SetOutput(out)
	dryRun := fs.Bool("dry-run", false, "report what would be re-encrypted, write nothing")
	batch := fs.Int("batch", 200, "TOTP secrets per transaction")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 || *batch < 1 {
		return usagef(secretsUsage)
	}
	if err := cfg.RequireSecretKey(); err != nil {
		return err
	}
	app, err := openPool(ctx, cfg.DatabaseURL, 2, "app")
	if err != nil {
		return err
	}
	defer app.Close()
	platform, err := openPool(ctx, cfg.PlatformDatabaseURL, 2, "platform")
	if err != nil {
		return err
	}
	defer platform.Close()
	db, err := tenants.NewDatabase(app)
	if err != nil {
		return err
	}
	users, err := identity.NewService(app, platform, db, identity.Config{SecretKey: cfg.SecretKey, PreviousKeys: cfg.SecretKeysPrevious})
	if err != nil {
		return err
	}
	actor := "cli:" + osUser()
	rep, err := users.RotateSecrets(ctx, audit.New(db, platform), identity.RotateOptions{DryRun: *dryRun, BatchSize: *batch, Actor: actor})
	if err != nil {
		return err
	}
	emails := map[uuid.UUID]string{}
	if len(rep.Undecryptable) > 0 {
		rows, err := app.Query(ctx, `SELECT id, email FROM users WHERE id = ANY($1)`, rep.Undecryptable)
		if err != nil {
			return fmt.Errorf("undecryptable accounts: %w", err)
		}
		for rows.Next() {
			var id uuid.UUID
			var email string
			if err := rows.Scan(&id, &email); err != nil {
				rows.Close()
				return err
			}
			emails[id] = email
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	printRotation(out, rep, emails, actor)
	return nil
}

func printRotation(out io.Writer, rep identity.RotationReport, emails map[uuid.UUID]string, actor string) {
	verb, label := "re-encrypted", "recorded"
	if rep.DryRun {
		fmt.Fprintln(out, "secret key rotation, dry run: nothing was written")
		verb, label = "to re-encrypt", "to record"
	} else {
		fmt.Fprintln(out, "secret key rotation")
	}
	prev := strings.Join(rep.PreviousKeyIDs, ", ")
	if prev == "" {
		prev = "none (EPOM_SECRET_KEY_PREVIOUS is empty)"
	}
	fmt.Fprintf(out, "  current key:                   %s\n", rep.CurrentKeyID)
	fmt.Fprintf(out, "  previous keys:                 %s\n", prev)
	fmt.Fprintf(out, "  TOTP secrets %-17s %d\n", verb+":", rep.Reencrypted)
	// Rows written before key ids were recorded but already under the current key: only
	// their id is missing. Rows with the current id are not counted anywhere.
	fmt.Fprintf(out, "  %-30s %d\n", "key ids "+label+" (older rows):", rep.Labelled)
	fmt.Fprintf(out, "  TOTP secrets no key decrypts:  %d\n", len(rep.Undecryptable))
	for _, id := range rep.Undecryptable {
		fmt.Fprintf(out, "    user %s %s\n", id, emails[id])
	}
	fmt.Fprintf(out, "  accounts with unused recovery codes under an old or unknown key: %d\n", rep.RecoveryOldKeyAccounts)
	if !rep.DryRun {
		fmt.Fprintf(out, "  audit:                         platform log, action secret-key-rotate, actor %s\n", actor)
	}
	fmt.Fprintln(out)
	if len(rep.Undecryptable) > 0 {
		fmt.Fprintln(out, "No key of the ring decrypts the TOTP secrets listed: if the key they were encrypted under is")
		fmt.Fprintln(out, "known, add it to EPOM_SECRET_KEY_PREVIOUS and run this again; otherwise those users cannot")
		fmt.Fprintln(out, "sign in until their two-factor sign-in is reset: epom user reset-mfa -email ADDRESS -reason TEXT.")
	}
	if rep.RecoveryOldKeyAccounts > 0 {
		fmt.Fprintln(out, "Recovery codes cannot be re-keyed (only their hashes are stored): they keep working while their")
		fmt.Fprintln(out, "key stays in EPOM_SECRET_KEY_PREVIOUS; the users can make new ones in their profile.")
	}
	switch {
	case rep.DryRun:
		fmt.Fprintln(out, "Run `epom secrets rotate` without -dry-run to re-encrypt.")
	case len(rep.PreviousKeyIDs) == 0:
		fmt.Fprintln(out, "EPOM_SECRET_KEY_PREVIOUS is empty: nothing depends on an earlier key any more.")
	default:
		fmt.Fprintln(out, "Every TOTP secret a key of the ring opens is now under the current key. EPOM_SECRET_KEY_PREVIOUS")
		fmt.Fprintln(out, "can be removed once the old key must no longer be trusted: unsubscribe links in notice e-mails")
		fmt.Fprintln(out, "sent before the rotation stop working then, and so do the recovery codes counted above.")
	}
}
