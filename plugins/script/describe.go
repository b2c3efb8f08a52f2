package script

import (
	"context"
	"fmt"
	"os"

	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// Describe says what vps.reinstall would do (for plan).
func (hook) Describe(_ context.Context, req *sdk.DescribeRequest) (sdk.Description, error) {
	rc := req.Context
	var d sdk.Description
	provisioned := req.HasEarlier(sdk.KindProvision)
	if !provisioned {
		d.Creates = append(d.Creates, rc.PrivateTmp+" (empty, for the hook to fill)")
	}
	host, ok := scriptOf(req.Config, rc)
	if !ok {
		return d, nil
	}
	if !exists(host) {
		d.Actions = append(d.Actions, host+" does not exist: nothing runs and the mode is \"default\"")
		return d, nil
	}
	again := "discards it and provisions again"
	if !provisioned {
		again = "empties it again"
	}
	d.Actions = append(d.Actions,
		fmt.Sprintf("runs %s --veid %s --ve_private_tmp %s --ve_private %s on the host", host, veid(rc), rc.PrivateTmp, rc.Private),
		"exit 0 keeps its temporary area (mode \"custom\"); exit 128 "+again+" (mode \"default\")")
	return d, nil
}

// Describe says what vps.configure would do (for plan).
func (configure) Describe(_ context.Context, req *sdk.DescribeRequest) (sdk.Description, error) {
	var d sdk.Description
	host, ok := scriptOf(req.Config, req.Context)
	switch {
	case !ok:
	case !exists(host):
		d.Actions = append(d.Actions, host+" does not exist: nothing runs")
	default:
		d.Actions = append(d.Actions, "feeds "+host+" to /bin/bash (or /bin/sh) inside the running container, /old visible")
	}
	return d, nil
}

// scriptOf is the script's host path, if the configuration knows it.
func scriptOf(cfg sdk.Config, rc sdk.RunContext) (string, bool) {
	var c config
	if !cfg.IsKnown("script") || cfg.Decode(&c) != nil || c.Script == "" {
		return "", false
	}
	return rc.HostPath(c.Script), true
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// veid is the container as scripts name it.
func veid(rc sdk.RunContext) string {
	if rc.VEID != "" {
		return rc.VEID
	}
	return fmt.Sprint(rc.CTID)
}
