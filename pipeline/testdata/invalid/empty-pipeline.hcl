pipeline "x" {} # ERROR: 1:1 Empty pipeline
