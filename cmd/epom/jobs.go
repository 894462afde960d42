package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/epom-cz/epom/internal/config"
	"github.com/epom-cz/epom/tenants/jobs"
)

const jobsUsage = `usage:
  epom jobs stats                                     queues and outbox backlog
  epom jobs list [-queue Q] [-state S] [-limit N]     tasks; S: pending, active, scheduled, retry, archived (default), completed
  epom jobs retry [-queue Q] ID...                    run archived, retrying or scheduled tasks now
  epom jobs retry -all-archived [-queue Q]            run every archived task again
  epom jobs archive [-queue Q] ID...                  move pending or retrying tasks to the archive`

// runJobs is `epom jobs`: the operator's view of the background work, for when the
// read-only /admin/queues is not enough (retrying the dead-letter archive after a fix).
func runJobs(ctx context.Context, cfg config.Config, args []string, out io.Writer) error {
	if len(args) == 0 {
		return usagef("%s", jobsUsage)
	}
	fs := flag.NewFlagSet("jobs "+args[0], flag.ContinueOnError)
	fs.SetOutput(out)
	queue := fs.String("queue", "", "queue: critical, default or low (default all)")
	state := fs.String("state", "archived", "list: task state")
	limit := fs.Int("limit", 50, "list: most tasks to show")
	allArchived := fs.Bool("all-archived", false, "retry: every archived task")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *queue != "" && !jobs.ValidQueue(*queue) {
		return usagef("unknown queue %q", *queue)
	}
	platform, err := openPool(ctx, cfg.PlatformDatabaseURL, 2, "platform")
	if err != nil {
		return err
	}
	defer platform.Close()
	admin, err := jobs.NewAdmin(cfg.RedisURL, platform)
	if err != nil {
		return err
	}
	defer admin.Close()
	tw := tabwriter.NewWriter(out, 2, 4, 2, ' ', 0)
	defer tw.Flush()

	switch args[0] {
	case "stats":
		qs, err := admin.Queues()
		if err != nil {
			return err
		}
		fmt.Fprintln(tw, "QUEUE\tPENDING\tACTIVE\tSCHEDULED\tRETRY\tARCHIVED\tCOMPLETED\tLATENCY\tPROCESSED TODAY\tFAILED TODAY\tPAUSED")
		for _, q := range qs {
			fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%d\t%d\t%v\n", q.Queue, q.Pending, q.Active, q.Scheduled,
				q.Retry, q.Archived, q.Completed, q.Latency.Round(time.Millisecond), q.ProcessedToday, q.FailedToday, q.Paused)
		}
		o, err := admin.Outbox(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(tw, "\noutbox: %d due (oldest waiting %s), %d later, %d published and unfinished, %d dead\n",
			o.Due, o.OldestDue.Round(time.Millisecond), o.Later, o.Published, o.Dead)
	case "list":
		ts, err := admin.List(*queue, *state, *limit)
		if err != nil {
			return err
		}
		fmt.Fprintln(tw, "ID\tQUEUE\tTYPE\tTENANT\tSTATE\tRETRIED\tLAST ERROR")
		for _, t := range ts {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d/%d\t%s\n", t.ID, t.Queue, t.Type, t.Tenant, t.State,
				t.Retried, t.MaxRetry, oneLine(t.LastErr, 100))
		}
	case "retry":
		if *allArchived {
			n, err := admin.RetryArchived(*queue)
			if err != nil {
				return err
			}
			fmt.Fprintf(tw, "%d archived tasks will run again\n", n)
			return nil
		}
		if fs.NArg() == 0 {
			return usagef("retry: give task ids or -all-archived")
		}
		for _, id := range fs.Args() {
			t, err := admin.Retry(*queue, id)
			if err != nil {
				return err
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\twill run now\n", t.ID, t.Queue, t.Type)
		}
	case "archive":
		if fs.NArg() == 0 {
			return usagef("archive: give task ids")
		}
		for _, id := range fs.Args() {
			t, err := admin.Archive(*queue, id)
			if err != nil {
				return err
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\tarchived\n", t.ID, t.Queue, t.Type)
		}
	default:
		return usagef("unknown jobs command %q\n%s", args[0], jobsUsage)
	}
	return nil
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len([]rune(s)) > n {
		s = string([]rune(s)[:n-1]) + "…"
	}
	return s
}
