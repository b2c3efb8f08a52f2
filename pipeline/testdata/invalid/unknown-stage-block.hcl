# Only stage blocks go in a pipeline.
pipeline "x" {
  stages "provision" "template" {} # ERROR: 3:3 Unsupported block type
  stage "swap" "swap" {}
}
