package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"path"
	"regexp"

	sdk "github.com/reinstall-dev/reinstall/plugin-sdk"
)

// config is the stage's body; the schema reinstall decodes it with is
// derived from the tags.
type config struct {
	LicenseKey string   `hcl:"license_key" sensitive:"true" description:"The license key, written to /etc/<product>/license.key with mode 0600."`
	Product    string   `hcl:"product" description:"The product: a lowercase name such as acme-panel."`
	Activate   []string `hcl:"activate,optional" description:"The command that activates the license inside the container (default: a shell script that records the activation)."`
}

// defaultActivation runs inside the container with PRODUCT, LICENSE_FILE and
// FINGERPRINT set (never the key itself: it is read from its file).
const defaultActivation = `set -e
test -s "$LICENSE_FILE"
printf 'product=%s\nfingerprint=%s\nhost=%s\n' "$PRODUCT" "$FINGERPRINT" "$(hostname)" > "$(dirname "$LICENSE_FILE")/activation"
echo "$PRODUCT: license $FINGERPRINT activated on $(hostname)"
`

var productRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)

// licenseStage installs a license key in the new container and activates it.
type licenseStage struct{}

func (licenseStage) Schema() sdk.Schema {
	s := sdk.MustSchemaFromStruct(config{})
	// What the pipeline may read as stage.<name>.fingerprint and .key_file.
	s.Outputs = []sdk.Output{
		{Name: "fingerprint", Type: "string", Description: "the first 16 hex digits of the key's SHA-256"},
		{Name: "key_file", Type: "string", Description: "where the key was written inside the container"},
	}
	return s
}

func (licenseStage) Validate(_ context.Context, cfg sdk.Config) sdk.Diagnostics {
	var c config
	if err := cfg.Decode(&c); err != nil {
		return sdk.Diagnostics{{Summary: err.Error()}}
	}
	var diags sdk.Diagnostics
	if cfg.IsKnown("product") && !productRE.MatchString(c.Product) {
		diags = append(diags, sdk.Diagnostic{Attribute: "product", Summary: "Invalid product",
			Detail: fmt.Sprintf("%q is not a product name: use lowercase letters, digits, '.', '_' and '-'.", c.Product)})
	}
	if cfg.IsKnown("activate") && c.Activate != nil && len(c.Activate) == 0 {
		diags = append(diags, sdk.Diagnostic{Attribute: "activate", Summary: "Empty activation command",
			Detail: "Leave activate out for the default, or give the command's argv."})
	}
	return diags
}

func (licenseStage) Run(ctx context.Context, req *sdk.RunRequest) (*sdk.Result, error) {
	var c config
	if err := req.Config.Decode(&c); err != nil {
		return nil, err
	}
	key, err := req.Host.Secret(ctx, "license_key")
	if err != nil {
		return nil, err
	}
	if key == "" {
		return nil, errors.New("license_key is empty")
	}
	keyFile := path.Join("/etc", c.Product, "license.key")
	if err := step(ctx, req.Host, "write-key", map[string]string{"path": keyFile}, func() error {
		return req.Host.WriteFile(ctx, keyFile, []byte(key+"\n"), 0o600, true)
	}); err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(key))
	fingerprint := hex.EncodeToString(sum[:8])
	if err := step(ctx, req.Host, "activate", map[string]string{"product": c.Product}, func() error {
		return activate(ctx, req, c, keyFile, fingerprint)
	}); err != nil {
		return nil, err
	}
	req.UI.Log(sdk.LevelInfo, fmt.Sprintf("license for %s installed in %s (fingerprint %s)", c.Product, keyFile, fingerprint))
	return &sdk.Result{Outputs: map[string]string{"fingerprint": fingerprint, "key_file": keyFile}}, nil
}

// activate runs the activation command inside the container; its output
// becomes the stage's log lines.
func activate(ctx context.Context, req *sdk.RunRequest, c config, keyFile, fingerprint string) error {
	argv := c.Activate
	if len(argv) == 0 {
		argv = []string{"/bin/sh", "-c", defaultActivation}
	}
	stdout, stderr := sdk.LogWriter(req.UI, sdk.LevelInfo), sdk.LogWriter(req.UI, sdk.LevelWarn)
	defer stdout.Close()
	defer stderr.Close()
	code, err := req.Host.Exec(ctx, sdk.ExecRequest{
		Argv: argv,
		Env: []string{
			"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
			"PRODUCT=" + c.Product, "LICENSE_FILE=" + keyFile, "FINGERPRINT=" + fingerprint,
		},
		Stdout: stdout,
		Stderr: stderr,
	})
	if err != nil {
		return fmt.Errorf("activate: %w", err)
	}
	if code != 0 {
		return fmt.Errorf("activation command %q exited with status %d", argv[0], code)
	}
	return nil
}

// step journals a sub-step, does it, and journals that it is done.
func step(ctx context.Context, host sdk.Host, name string, data map[string]string, do func() error) error {
	if err := host.Journal(ctx, name, sdk.PhaseBegin, data); err != nil {
		return err
	}
	if err := do(); err != nil {
		return err
	}
	return host.Journal(ctx, name, sdk.PhaseDone, nil)
}

// Rollback removes the key file if Run got as far as writing it. It is
// idempotent, and with the container stopped there is nothing to do: the
// host discards the whole new private area when it rolls back the swap.
func (licenseStage) Rollback(ctx context.Context, req *sdk.RollbackRequest) error {
	keyFile := ""
	for _, e := range req.Entries {
		if e.Step == "write-key" && e.Phase == sdk.PhaseBegin {
			keyFile = e.Data["path"]
		}
	}
	if keyFile == "" {
		return nil
	}
	state, err := req.Host.Status(ctx)
	if err != nil || state != "running" {
		return err
	}
	code, err := req.Host.Exec(ctx, sdk.ExecRequest{
		Argv: []string{"rm", "-f", keyFile, path.Join(path.Dir(keyFile), "activation")},
		Env:  []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
	})
	if err == nil && code != 0 {
		err = fmt.Errorf("rm %s exited with status %d", keyFile, code)
	}
	return err
}
