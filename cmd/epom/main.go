// Command epom is the one binary of the deployment: web server, background worker, scheduler,
// migrations, tenant administration and a local all-in-one development mode.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
	_ "time/tzdata" // dates are shown in Europe/Prague, also where the image has no zoneinfo

	"github.com/epom-cz/epom/internal/config"
)

type command struct {
	summary string
	run     func(ctx context.Context, cfg config.Config, args []string, out io.Writer) error
}

func commands() map[string]command {
	return map[string]command{
		"serve":     {"run the web server", runServe},
		"worker":    {"run the background worker and the outbox relay", runWorker},
		"scheduler": {"create periodic tasks (any number may run)", runScheduler},
		"jobs":      {"jobs stats | list | retry | archive: inspect and repair background work", runJobs},
		"migrate":   {"migrate up | down | status: apply, roll back one, or list database migrations", runMigrate},
		"tenant":    {"tenant list | create | suspend | activate | close | modules | provision | export | import | drop", runTenant},
		"dev":       {"migrate, seed the demo region and run server, worker and scheduler in one process", runDev},
		"bench":     {"bench tenants: resolve every tenant over HTTP and report memory; bench noticeboard: public board vs a bare handler", runBench},
		"audit":     {"audit verify [-tenant SLUG] | audit list -tenant SLUG: check the hash chains, list entries", runAudit},
		"secrets":   {"secrets rotate [-dry-run]: move TOTP secrets to the current EPOM_SECRET_KEY and report what still needs an old key", runSecrets},
		"user":      {"user reset-mfa -email ADDRESS -reason TEXT: reset a lost two-factor sign-in (platform operator)", runUser},
	}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "epom — the agendas of Czech municipalities, one tenant per municipality.")
	fmt.Fprintln(w, "\nUsage: epom <command> [arguments]\n\nCommands:")
	cmds := commands()
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nConfiguration (environment variables):")
	fmt.Fprint(w, config.Help())
	fmt.Fprintln(w, "\nRun `epom <command> -h` for a command's flags.")
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := commands()[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "epom: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	cfg, err := config.FromEnv()
	if err != nil {
		fmt.Fprintf(stderr, "epom: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := cmd.run(ctx, cfg, args[1:], stdout); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		fmt.Fprintf(stderr, "epom %s: %v\n", args[0], err)
		var ue usageError
		if errors.As(err, &ue) {
			return 2
		}
		return 1
	}
	return 0
}

// usageError marks a mistake in the command line (exit status 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return usageError{fmt.Sprintf(format, args...)}
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
