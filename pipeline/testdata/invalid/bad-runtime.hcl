pipeline "x" {
  runtime = "docker" # ERROR: 2:13 Invalid runtime
  stage "provision" "template" {}
  stage "swap" "swap" {}
}
