pipeline "x" {
  stage "provision" "template" {
    tmeout = "10m" # ERROR: 3:5 Unsupported argument
  }
  stage "swap" "swap" {}
}
