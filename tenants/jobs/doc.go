// Package jobs is the background work of epom: a transactional outbox, a relay that hands
// committed outbox rows to asynq (Redis), a worker that runs task handlers in their tenant's
// context, a scheduler for periodic work, and the operations around them (metrics, the
// read-only asynq UI, the `epom jobs` CLI). It is the only package that imports asynq.
//
// # Wiring (cmd/epom)
//
// The functions below exist in cmd/epom/worker.go and cmd/epom/scheduler.go, written against
// cmd's app type; main.go only has to list the commands and dev.go/serve to call them.
//
//	// main.go, commands():
//	"worker":    {"run the background worker and the outbox relay", runWorker},
//	"scheduler": {"create periodic tasks (any number may run)", runScheduler},
//	"jobs":      {"jobs stats | list | retry | archive: inspect and repair background work", runJobs},
//
//	// the tenants' e-mail service (modules queue mail through it; build it once per process):
//	mailSvc, err := newMailService(cfg, a.db, a.log) // EPOM_SMTP_URL, EPOM_MAIL_FROM
//
//	// `epom serve`: /admin/queues (asynqmon, read-only) and the queue/outbox metrics
//	mounts, closeOps, err := a.jobsOps()       // registers jobs.NewCollector in a.promReg
//	defer closeOps()
//	srv, err := a.server(ctx, mounts)          // mounts behind requirePlatformAdmin
//
//	// `epom dev`: the same as serve, plus, before serveHTTP:
//	go func() { _ = a.runJobWorker(ctx, mailSvc) }()    // relay + worker, graceful on ctx end
//	go func() { _ = a.runJobScheduler(ctx, mailSvc) }() // periodic windows
//
// Underneath, these are the package's constructors (for other wiring):
//
//	mux := jobs.NewMux()
//	mailSvc.RegisterTasks(mux); moduleRegistry.RegisterTasks(mux)      // modules.WithTasks
//	relay, _ := jobs.NewRelay(platformPool, jobs.RelayConfig{RedisURL: url, Logger: log})
//	worker, _ := jobs.NewWorker(platformPool, jobs.ResolverGate(resolver), mux,
//		jobs.Config{RedisURL: url, ShutdownTimeout: d, Logger: log})
//	relay.Run(ctx); worker.Run(ctx)                                  // both in `epom worker`
//	promRegistry.MustRegister(worker.Metrics())                       // start delay, durations
//	specs, _ := moduleRegistry.Periodic()                            // modules.WithPeriodic
//	sched, _ := jobs.NewScheduler(platformPool, append(mailSvc.Periodic(), specs...),
//		jobs.SchedulerConfig{Logger: log})
//	sched.Run(ctx)                                                   // `epom scheduler`
//	col, _ := jobs.NewCollector(url, platformPool, log); promRegistry.MustRegister(col)
//	ui, closeUI, _ := jobs.NewQueuesUI(url, "/admin/queues")         // http.Handler, GET only
//	admin, _ := jobs.NewAdmin(url, platformPool)                     // `epom jobs`
//
// The request id reaches tasks when the HTTP layer keeps it under the gin key
// jobs.RequestIDKey ("epom.request-id", as api/httpx does) or in jobs.WithRequestID.
//
// # How work flows
//
// A module writes its rows and calls Enqueue(ctx, task) inside tenants.InTx: the task is an
// outbox row of the same transaction, so it exists if and only if the transaction commits.
// A statement trigger NOTIFYs epom_outbox on commit; the relay wakes (or polls every second),
// claims due rows of active tenants with enabled modules (FOR UPDATE SKIP LOCKED, keeping at
// most TenantInFlight tasks per tenant and queue in Redis, round-robin over tenants), marks
// them published and enqueues them with TaskID = outbox id (or the task's key). The worker's
// middleware rebuilds the tenant context from the task headers, refuses tasks of suspended
// tenants and switched-off modules without losing them (they wait in the retry set without
// using up retries; a closed tenant's are archived with the reason), runs the handler and,
// once it succeeds, marks the outbox row done. The reconciler re-enqueues published rows
// that Redis lost (a restart without persistence); the janitor prunes old rows. See
// docs/adr/0003-jobs-outbox.md for the reasoning and the guarantees.
package jobs
