package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// procCPU is the CPU time of process pid (Linux /proc), with its waited-for
// children's when children is set; 0 when /proc cannot tell.
func procCPU(pid int, children bool) time.Duration {
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	i := strings.LastIndexByte(string(stat), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(stat)[i+2:])
	fields := []int{11, 12} // utime, stime
	if children {
		fields = append(fields, 13, 14)
	}
	var total time.Duration
	for _, k := range fields {
		if k < len(f) {
			ticks, _ := strconv.Atoi(f[k])
			total += time.Duration(ticks) * 10 * time.Millisecond // USER_HZ 100
		}
	}
	return total
}

// clusterCPU is the CPU time of the PostgreSQL server running in dataDir:
// the postmaster, its live children and those that exited.
func clusterCPU(dataDir string) time.Duration {
	b, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid"))
	if err != nil {
		return 0
	}
	pm, _ := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	total := procCPU(pm, true)
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		i := strings.LastIndexByte(string(stat), ')')
		if f := strings.Fields(string(stat)[i+2:]); i > 0 && len(f) > 1 && f[1] == strconv.Itoa(pm) {
			total += procCPU(pid, false)
		}
	}
	return total
}

// selfCPU is this process's CPU time: the driver's.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuShares samples the three parties' CPU time.
type cpuShares struct{ colearn, postgres, driver time.Duration }

func (in *instance) cpu() cpuShares {
	return cpuShares{procCPU(in.cmd.Process.Pid, false), clusterCPU(filepath.Join(in.data, "postgres", "pgdata")), selfCPU()}
}

// cores is how many cores each used over wall, from a to b.
func (a cpuShares) cores(b cpuShares, wall time.Duration) (colearn, postgres, driver float64) {
	w := wall.Seconds()
	return (b.colearn - a.colearn).Seconds() / w, (b.postgres - a.postgres).Seconds() / w, (b.driver - a.driver).Seconds() / w
}
