package vz

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

func TestFindTemplate(t *testing.T) {
	tests := []struct {
		name    string
		present []string // files under <TemplateDir>/cache
		want    string   // "" : ErrTemplateNotFound
	}{
		{name: "tar wins over all", present: []string{"os.tar.bz2", "os.tar.xz", "os.tar.zst", "os.tar.gz", "os.tar"}, want: "os.tar"},
		{name: "gz before zst", present: []string{"os.tar.zst", "os.tar.gz"}, want: "os.tar.gz"},
		{name: "zst before xz", present: []string{"os.tar.xz", "os.tar.zst"}, want: "os.tar.zst"},
		{name: "xz before bz2", present: []string{"os.tar.bz2", "os.tar.xz"}, want: "os.tar.xz"},
		{name: "bz2 alone", present: []string{"os.tar.bz2"}, want: "os.tar.bz2"},
		{name: "other names ignored", present: []string{"os.tgz", "os.tar.lz4", "os-2.tar", "OS.tar"}},
		{name: "empty cache"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newTestHost(t, "TEMPLATE=/srv/templates\n")
			cache := filepath.Join(h.Root, "srv/templates/cache")
			mustMkdir(t, cache)
			for _, f := range tt.present {
				mustWrite(t, filepath.Join(cache, f), "x")
			}
			got, err := h.FindTemplate("os")
			if tt.want == "" {
				if !errors.Is(err, ErrTemplateNotFound) {
					t.Fatalf("FindTemplate = %q, %v; want ErrTemplateNotFound", got, err)
				}
				for _, suffix := range TemplateSuffixes {
					if p := filepath.Join(cache, "os"+suffix); !strings.Contains(err.Error(), p) {
						t.Errorf("error %q does not list %s", err, p)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := filepath.Join(cache, tt.want); got != want {
				t.Errorf("FindTemplate = %q, want %q", got, want)
			}
		})
	}
}

func TestFindTemplateBadNames(t *testing.T) {
	h := newTestHost(t, "")
	mustWrite(t, filepath.Join(h.TemplateDir, "x.tar"), "outside the cache")
	mustWrite(t, filepath.Join(h.TemplateDir, "cache/.tar"), "no name")
	mustMkdir(t, filepath.Join(h.TemplateDir, "cache/dir.tar"))
	for _, name := range []string{"", ".", "..", "../x", "a/b", "/etc/passwd", "x\x00", "x\ny", "x\x1b[31m", `a"b'c`} {
		t.Run(name, func(t *testing.T) {
			got, err := h.FindTemplate(name)
			if err == nil {
				t.Fatalf("FindTemplate(%q) = %q, want an error", name, got)
			}
			if errors.Is(err, ErrTemplateNotFound) {
				t.Errorf("FindTemplate(%q) error %q should be a bad name, not a missing template", name, err)
			}
		})
	}
	t.Run("directory", func(t *testing.T) {
		if got, err := h.FindTemplate("dir"); err == nil {
			t.Errorf(`FindTemplate("dir") = %q, want an error for a directory`, got)
		}
	})
}
