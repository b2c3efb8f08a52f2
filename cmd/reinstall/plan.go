package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/reinstall-dev/reinstall/pipeline"
	"github.com/reinstall-dev/reinstall/pipeline/engine"
)

func newPlanCommand(g *globals) *cobra.Command {
	var o struct {
		skipBackup, stop, json bool
		noHealth               bool
		pipeline, ostemplate   string
		vars                   varFlags
		hooks                  scriptFlags
	}
	cmd := &cobra.Command{
		Use:   "plan [flags] CTID|NAME",
		Short: "Show what a reinstall would do, changing nothing",
		Long: `plan makes the checks of a reinstall that change nothing, starts the
pipeline's plugins to check every stage, and prints each stage with its
plugin and whether it will run, what it creates, and what becomes of the old
private area (destroyed or kept). It takes the same flags as a reinstall and
exits with the code the reinstall would be refused with.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			vars, err := o.vars.values()
			if err != nil {
				return err
			}
			h, err := g.host()
			if err != nil {
				return &engine.Error{Code: engine.ExitRefused, Stage: engine.StagePreflight, Err: err}
			}
			hooks, err := o.hooks.options(h, args[0])
			if err != nil {
				return err
			}
			plan, err := engine.Plan(cmd.Context(), engine.Options{
				Host:         h,
				Target:       args[0],
				SkipBackup:   o.skipBackup,
				Stop:         o.stop,
				OSTemplate:   o.ostemplate,
				ResetPwDB:    hooks.ResetPwDB,
				SkipScripts:  hooks.SkipScripts,
				Scripts:      hooks.Scripts,
				NoHealth:     o.noHealth,
				PipelineFile: o.pipeline,
				Vars:         vars,
				VarFiles:     o.vars.files,
				RuntimeName:  g.runtimeName,
				NewRuntime:   g.runtimeSelector(h).New,
				Logger:       g.logger(),
				SelfExe:      "/proc/self/exe",
				Secrets:      g.secrets,
			})
			if err != nil {
				return err
			}
			if o.json {
				enc := json.NewEncoder(g.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(plan)
			}
			writePlan(g.stdout, plan)
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.skipBackup, "skipbackup", false, "plan a reinstall that deletes the old private area")
	addNoBackupFlag(f, &o.skipBackup)
	addOSTemplateFlag(f, &o.ostemplate)
	f.BoolVar(&o.stop, "stop", false, "plan a reinstall that stops a running container right before the swap")
	f.StringVar(&o.pipeline, "pipeline", "", "plan the pipeline in `FILE` instead of /etc/vz/reinstall.hcl or the embedded default")
	f.BoolVar(&o.noHealth, "no-health", false, "plan a reinstall that skips the health stage")
	f.BoolVar(&o.json, "json", false, "print the plan as JSON")
	o.vars.register(f)
	o.hooks.registerRunFlags(f)
	return cmd
}

// writePlan prints a plan for people.
func writePlan(w io.Writer, p *engine.RunPlan) {
	name := ""
	if p.Name != "" {
		name = " (" + p.Name + ")"
	}
	ct := strconv.Itoa(p.CTID)
	if p.CTID == 0 { // an LXC container: its name
		ct, name = p.Name, ""
	}
	fmt.Fprintf(w, "Plan for container %s%s, %s: pipeline %q from %s\n", ct, name, p.State, p.Pipeline, p.File)
	fmt.Fprintf(w, "  private area  %s\n", p.Private)
	fmt.Fprintf(w, "  runtime       %s\n", p.Runtime)
	fmt.Fprintf(w, "  template      %s (%s)\n", p.OSTemplate, p.TemplateFile)
	if p.ConfigOSTemplate != "" {
		fmt.Fprintf(w, "                replaces OSTEMPLATE=%s in the config once the reinstall succeeds\n", p.ConfigOSTemplate)
	}
	fmt.Fprintf(w, "  options       skipbackup=%v stop=%v resetpwdb=%v skipscripts=%v nohealth=%v", p.Options.SkipBackup, p.Options.Stop, p.Options.ResetPwDB, p.Options.SkipScripts, p.Options.NoHealth)
	if len(p.Options.Scripts) > 0 {
		fmt.Fprintf(w, " scripts=%s", strings.Join(p.Options.Scripts, ","))
	}
	fmt.Fprintln(w)
	for _, v := range p.Variables {
		fmt.Fprintf(w, "  var.%s = %s\n", v.Name, v.Value)
	}
	fmt.Fprintln(w)
	for _, s := range p.Stages {
		fmt.Fprintf(w, "%d. %s %q (plugin %s): %s\n", s.Index, s.Kind, s.Name, s.Plugin, s.Status)
		if s.When != "" {
			fmt.Fprintf(w, "     when = %s\n", s.When)
		}
		keys := make([]string, 0, len(s.Config))
		for k := range s.Config {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "     %s = %s\n", k, s.Config[k])
		}
		if s.Timeout != "none" || s.OnFailure != pipeline.OnFailureRollback {
			fmt.Fprintf(w, "     timeout %s, on failure %s\n", s.Timeout, s.OnFailure)
		}
		for _, c := range s.Creates {
			fmt.Fprintf(w, "     creates %s\n", c)
		}
		for _, a := range s.Actions {
			fmt.Fprintf(w, "     %s\n", a)
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Destroyed:")
	writeList(w, p.Destroyed, "nothing")
	fmt.Fprintln(w, "Kept:")
	writeList(w, p.Kept, "nothing of the old private area")
}

func writeList(w io.Writer, items []string, none string) {
	if len(items) == 0 {
		fmt.Fprintf(w, "  %s\n", none)
	}
	for _, it := range items {
		fmt.Fprintf(w, "  %s\n", strings.TrimSpace(it))
	}
}
