pipeline "x" {
  stage "provision" "template" {
    on_failure = "continue" # ERROR: 3:18 on_failure = "continue" before the swap
  }
  stage "swap" "swap" {}
}
