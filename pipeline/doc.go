// Package pipeline is the reinstall pipeline language, as Terraform's
// configs is Terraform's: it loads a pipeline from HCL (the embedded default
// or a site's file), decodes its blocks, variables and locals, evaluates
// expressions in the ct, opts, var, local and stage namespaces with their
// sensitivity, checks references and outputs statically, and formats files.
// It runs nothing: package engine checks a pipeline against its plugins'
// schemas and runs it.
package pipeline
