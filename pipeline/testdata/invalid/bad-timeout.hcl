pipeline "x" {
  stage "provision" "template" {
    timeout = "ten minutes" # ERROR: 3:15 Invalid timeout
  }
  stage "swap" "swap" {}
}
