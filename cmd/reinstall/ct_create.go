package main

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/reinstall-dev/reinstall/internal/containers"
	"github.com/reinstall-dev/reinstall/internal/vz"
)

func newCTCreateCommand(g *globals) *cobra.Command {
	var ostemplate, hostname, name string
	cmd := &cobra.Command{
		Use:   "create CTID --ostemplate NAME [--hostname H] [--name NAME]",
		Short: "Create a container's config and private area from an OS template",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return createContainer(cmd.Context(), g, args[0], containers.Spec{OSTemplate: ostemplate, Hostname: hostname, Name: name})
		},
	}
	cmd.Flags().StringVar(&ostemplate, "ostemplate", "", "OS template name (a cache in $TEMPLATE/cache)")
	cmd.Flags().StringVar(&hostname, "hostname", "", "the container's hostname")
	cmd.Flags().StringVar(&name, "name", "", "a name for the container (/etc/vz/names/NAME)")
	cmd.MarkFlagRequired("ostemplate")
	return cmd
}

// createContainer creates the container arg names as containers.Create does
// and says where it is.
func createContainer(ctx context.Context, g *globals, arg string, spec containers.Spec) error {
	h, err := g.host()
	if err != nil {
		return err
	}
	if spec.CTID, err = vz.ParseCTID(arg); err != nil {
		return err
	}
	made, err := containers.Create(ctx, h, spec)
	if errors.Is(err, vz.ErrTemplateNotFound) {
		return fmt.Errorf("%w; put the OS template's tarball there (make demo-host builds a host with a busybox one)", err)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, "container %d created from %s at %s\n", made.CTID, filepath.Base(made.Template), made.Private)
	return nil
}
