package modules

import (
	"fmt"

	"github.com/epom-cz/epom/tenants/jobs"
)

// WithTasks registers the module's background task handlers. The registrar accepts only the
// module's own task types ("<id>:<action>"); handlers get a context bound to the task's
// tenant and use tenants.InTx as web handlers do.
type WithTasks interface {
	RegisterTasks(r jobs.Registrar) error
}

// WithPeriodic declares work the module wants done on a schedule for every tenant that has
// it switched on. Spec names are "<id>:<what>".
type WithPeriodic interface {
	Periodic() []jobs.PeriodicSpec
}

// RegisterTasks lets every module with tasks register them on mux, each confined to its own
// task types.
func (r *Registry) RegisterTasks(mux *jobs.Mux) error {
	for _, m := range r.list {
		wt, ok := m.(WithTasks)
		if !ok {
			continue
		}
		if err := wt.RegisterTasks(mux.Module(string(m.ID()))); err != nil {
			return fmt.Errorf("module %s: register tasks: %w", m.ID(), err)
		}
	}
	return nil
}

// Periodic returns every module's periodic specs, checking that each belongs to its module.
func (r *Registry) Periodic() ([]jobs.PeriodicSpec, error) {
	var out []jobs.PeriodicSpec
	for _, m := range r.list {
		wp, ok := m.(WithPeriodic)
		if !ok {
			continue
		}
		for _, s := range wp.Periodic() {
			if jobs.ModuleOf(s.Name) != string(m.ID()) {
				return nil, fmt.Errorf("module %s: periodic spec %q must be named %s:<what>", m.ID(), s.Name, m.ID())
			}
			out = append(out, s)
		}
	}
	return out, nil
}
