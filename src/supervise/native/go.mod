module calico-lab/supervise

go 1.22
