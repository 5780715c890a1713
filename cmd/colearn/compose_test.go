package main

// Static checks of the production deployment files (docker-compose.yml and
// Dockerfile at the repository root). No Docker engine is needed: the files
// are parsed and the rules that keep a deployment working are checked.

import (
	"bufio"
	"fmt"
	"net"
	"net/url"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

const (
	composeTestFile    = "../../docker-compose.yml"
	composeTestDocker  = "../../Dockerfile"
	composeDBService   = "db"
	composeAppService  = "colearn"
	composeTestHost    = "learn.example.org"
	composeTestDBPass  = "0123456789abcdef"
	composeDefaultDeps = "service_started"
)

// composeMinimalEnv is the .env the compose file's header comment asks for.
// It must be enough for the file to interpolate.
var composeMinimalEnv = map[string]string{
	"COLEARN_HOST":      composeTestHost,
	"POSTGRES_PASSWORD": composeTestDBPass,
}

// composeOverrideEnv also overrides the optional database settings; the app's
// DATABASE_URL must follow them.
var composeOverrideEnv = map[string]string{
	"COLEARN_HOST":      composeTestHost,
	"POSTGRES_PASSWORD": "fedcba9876543210",
	"POSTGRES_USER":     "alice",
	"POSTGRES_DB":       "learning",
}

type composeProject struct {
	Version  any                       `yaml:"version"`
	Services map[string]composeService `yaml:"services"`
	Volumes  map[string]any            `yaml:"volumes"`
}

type composeService struct {
	Image       string              `yaml:"image"`
	Build       *composeBuild       `yaml:"build"`
	DependsOn   composeDependsOn    `yaml:"depends_on"`
	Environment composeEnv          `yaml:"environment"`
	Ports       []composePort       `yaml:"ports"`
	Volumes     []composeVolume     `yaml:"volumes"`
	Healthcheck *composeHealthcheck `yaml:"healthcheck"`
}

type composeBuild struct {
	Context    string
	Dockerfile string
}

func (b *composeBuild) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		b.Context = n.Value
		return nil
	}
	var long struct {
		Context    string `yaml:"context"`
		Dockerfile string `yaml:"dockerfile"`
	}
	if err := n.Decode(&long); err != nil {
		return err
	}
	b.Context, b.Dockerfile = long.Context, long.Dockerfile
	if b.Context == "" {
		b.Context = "."
	}
	return nil
}

// composeDependsOn maps a service name to its condition.
type composeDependsOn map[string]string

func (d *composeDependsOn) UnmarshalYAML(n *yaml.Node) error {
	*d = composeDependsOn{}
	switch n.Kind {
	case yaml.SequenceNode:
		for _, c := range n.Content {
			(*d)[c.Value] = composeDefaultDeps
		}
	case yaml.MappingNode:
		var long map[string]struct {
			Condition string `yaml:"condition"`
		}
		if err := n.Decode(&long); err != nil {
			return err
		}
		for name, v := range long {
			if v.Condition == "" {
				v.Condition = composeDefaultDeps
			}
			(*d)[name] = v.Condition
		}
	default:
		return fmt.Errorf("line %d: depends_on must be a list or a mapping", n.Line)
	}
	return nil
}

// composeEnv maps a variable to its value; nil means "KEY" without a value
// (passed through from the host).
type composeEnv map[string]*string

func (e *composeEnv) UnmarshalYAML(n *yaml.Node) error {
	*e = composeEnv{}
	switch n.Kind {
	case yaml.SequenceNode:
		for _, c := range n.Content {
			k, v, ok := strings.Cut(c.Value, "=")
			if ok {
				(*e)[k] = &v
			} else {
				(*e)[k] = nil
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i].Value, n.Content[i+1]
			if v.Tag == "!!null" {
				(*e)[k] = nil
				continue
			}
			s := v.Value
			(*e)[k] = &s
		}
	default:
		return fmt.Errorf("line %d: environment must be a list or a mapping", n.Line)
	}
	return nil
}

type composePort struct {
	HostIP    string
	Published string
	Target    string
}

func (p *composePort) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.MappingNode {
		var long struct {
			HostIP    string `yaml:"host_ip"`
			Published string `yaml:"published"`
			Target    string `yaml:"target"`
		}
		if err := n.Decode(&long); err != nil {
			return err
		}
		p.HostIP, p.Published, p.Target = long.HostIP, long.Published, long.Target
		return nil
	}
	// Short syntax: [[HOST_IP:]PUBLISHED:]TARGET[/PROTOCOL]
	s, _, _ := strings.Cut(n.Value, "/")
	i := strings.LastIndex(s, ":")
	if i < 0 {
		p.Target = s
		return nil
	}
	p.Target = s[i+1:]
	rest := s[:i]
	if j := strings.LastIndex(rest, ":"); j >= 0 {
		p.HostIP = strings.Trim(rest[:j], "[]")
		p.Published = rest[j+1:]
	} else {
		p.Published = rest
	}
	return nil
}

type composeVolume struct {
	Type   string
	Source string
	Target string
}

func (v *composeVolume) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.MappingNode {
		var long struct {
			Type   string `yaml:"type"`
			Source string `yaml:"source"`
			Target string `yaml:"target"`
		}
		if err := n.Decode(&long); err != nil {
			return err
		}
		v.Type, v.Source, v.Target = long.Type, long.Source, long.Target
		return nil
	}
	// Short syntax: [SOURCE:]TARGET[:MODE]
	parts := strings.Split(n.Value, ":")
	if len(parts) == 1 {
		v.Type, v.Target = "volume", parts[0] // anonymous volume
		return nil
	}
	v.Source, v.Target = parts[0], parts[1]
	if strings.HasPrefix(v.Source, ".") || strings.HasPrefix(v.Source, "/") || strings.HasPrefix(v.Source, "~") {
		v.Type = "bind"
	} else {
		v.Type = "volume"
	}
	return nil
}

type composeHealthcheck struct {
	Test    composeStringOrList `yaml:"test"`
	Disable bool                `yaml:"disable"`
}

type composeStringOrList []string

func (s *composeStringOrList) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		*s = composeStringOrList{n.Value}
		return nil
	}
	var l []string
	if err := n.Decode(&l); err != nil {
		return err
	}
	*s = l
	return nil
}

var composeVarRE = regexp.MustCompile(`\$(\$|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))`)

// composeInterpolate applies compose's variable substitution to s, using env
// as the only environment: ${V}, $V, ${V:-def}, ${V-def}, ${V:?msg},
// ${V?msg} and $$.
func composeInterpolate(s string, env map[string]string) (string, error) {
	var firstErr error
	out := composeVarRE.ReplaceAllStringFunc(s, func(m string) string {
		sm := composeVarRE.FindStringSubmatch(m)
		if sm[1] == "$" {
			return "$"
		}
		name := sm[2]
		if name == "" {
			name = sm[5]
		}
		val, set := env[name]
		op, arg := sm[3], sm[4]
		switch op {
		case ":-":
			if val == "" {
				return arg
			}
		case "-":
			if !set {
				return arg
			}
		case ":?":
			if val == "" && firstErr == nil {
				firstErr = fmt.Errorf("required variable %s is missing a value: %s", name, arg)
			}
		case "?":
			if !set && firstErr == nil {
				firstErr = fmt.Errorf("required variable %s is missing a value: %s", name, arg)
			}
		}
		return val
	})
	return out, firstErr
}

// composeInterpolateNode interpolates every scalar value (not mapping keys).
func composeInterpolateNode(n *yaml.Node, env map[string]string) error {
	switch n.Kind {
	case yaml.ScalarNode:
		v, err := composeInterpolate(n.Value, env)
		if err != nil {
			return fmt.Errorf("line %d: %w", n.Line, err)
		}
		n.Value = v
	case yaml.MappingNode:
		for i := 1; i < len(n.Content); i += 2 {
			if err := composeInterpolateNode(n.Content[i], env); err != nil {
				return err
			}
		}
	default:
		for _, c := range n.Content {
			if err := composeInterpolateNode(c, env); err != nil {
				return err
			}
		}
	}
	return nil
}

func composeLoad(t *testing.T, env map[string]string) composeProject {
	t.Helper()
	raw, err := os.ReadFile(composeTestFile)
	if err != nil {
		t.Fatalf("read compose file: %v", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("parse %s: %v", composeTestFile, err)
	}
	if err := composeInterpolateNode(&doc, env); err != nil {
		t.Fatalf("interpolate %s with %v: %v", composeTestFile, env, err)
	}
	var p composeProject
	if err := doc.Decode(&p); err != nil {
		t.Fatalf("decode %s: %v", composeTestFile, err)
	}
	for _, name := range []string{composeDBService, composeAppService} {
		if _, ok := p.Services[name]; !ok {
			t.Fatalf("compose file has no service %q (services: %v)", name, composeKeys(p.Services))
		}
	}
	return p
}

func composeKeys[V any](m map[string]V) []string {
	var ks []string
	for k := range m {
		ks = append(ks, k)
	}
	return ks
}

func composeEnvValue(t *testing.T, s composeService, service, key string) string {
	t.Helper()
	v, ok := s.Environment[key]
	if !ok {
		t.Fatalf("service %s does not declare %s in environment", service, key)
	}
	if v == nil || *v == "" {
		t.Fatalf("service %s declares %s without a value", service, key)
	}
	return *v
}

func composeListenPort(t *testing.T, listen string) string {
	t.Helper()
	_, port, err := net.SplitHostPort(listen)
	if err != nil || port == "" {
		t.Fatalf("COLEARN_LISTEN %q is not a host:port listen address: %v", listen, err)
	}
	return port
}

func TestComposeFile(t *testing.T) {
	t.Parallel()
	p := composeLoad(t, composeMinimalEnv)
	db, app := p.Services[composeDBService], p.Services[composeAppService]

	t.Run("NoObsoleteVersionKey", func(t *testing.T) {
		t.Parallel()
		if p.Version != nil {
			t.Errorf("top-level `version:` is obsolete in the compose spec; remove it")
		}
	})

	t.Run("AppBuildsFromRepo", func(t *testing.T) {
		t.Parallel()
		if app.Build == nil {
			t.Fatalf("service %s has no build section", composeAppService)
		}
		if got := path.Clean(app.Build.Context); got != "." {
			t.Errorf("service %s build context = %q, want the repository root \".\"", composeAppService, app.Build.Context)
		}
		if df := app.Build.Dockerfile; df != "" && path.Clean(df) != "Dockerfile" {
			t.Errorf("service %s builds from %q, want the repository's Dockerfile", composeAppService, df)
		}
	})

	t.Run("AppWaitsForHealthyDB", func(t *testing.T) {
		t.Parallel()
		cond, ok := app.DependsOn[composeDBService]
		if !ok {
			t.Fatalf("service %s does not depend on %s", composeAppService, composeDBService)
		}
		if cond != "service_healthy" {
			t.Errorf("service %s depends on %s with condition %q, want service_healthy", composeAppService, composeDBService, cond)
		}
	})

	t.Run("AppEnvironment", func(t *testing.T) {
		t.Parallel()
		for _, k := range []string{"DATABASE_URL", "COLEARN_HOST", "COLEARN_LISTEN", "COLEARN_DATA"} {
			composeEnvValue(t, app, composeAppService, k)
		}
		if v, ok := app.Environment["COLEARN_DEV"]; ok {
			shown := "<from host>"
			if v != nil {
				shown = *v
			}
			t.Errorf("service %s sets COLEARN_DEV=%s; the dev switch must never be on in production", composeAppService, shown)
		}
		if got := composeEnvValue(t, app, composeAppService, "COLEARN_HOST"); got != composeTestHost {
			t.Errorf("COLEARN_HOST = %q with COLEARN_HOST=%s in .env; it must come from the variable", got, composeTestHost)
		}
	})

	t.Run("Healthchecks", func(t *testing.T) {
		t.Parallel()
		for _, name := range []string{composeDBService, composeAppService} {
			hc := p.Services[name].Healthcheck
			switch {
			case hc == nil:
				t.Errorf("service %s has no healthcheck", name)
			case hc.Disable || len(hc.Test) == 0 || hc.Test[0] == "NONE":
				t.Errorf("service %s healthcheck is disabled or empty: %+v", name, *hc)
			}
		}
	})

	t.Run("DBNamedVolume", func(t *testing.T) {
		t.Parallel()
		found := false
		for _, v := range db.Volumes {
			if v.Type != "volume" || v.Source == "" || !strings.HasPrefix(v.Target, "/var/lib/postgresql") {
				continue
			}
			found = true
			if _, ok := p.Volumes[v.Source]; !ok {
				t.Errorf("service %s uses volume %q, which is not declared under top-level volumes", composeDBService, v.Source)
			}
		}
		if !found {
			t.Errorf("service %s has no named volume on /var/lib/postgresql/...: %+v", composeDBService, db.Volumes)
		}
	})

	t.Run("AppDataPersisted", func(t *testing.T) {
		t.Parallel()
		data := composeEnvValue(t, app, composeAppService, "COLEARN_DATA")
		for _, v := range app.Volumes {
			if path.Clean(v.Target) == path.Clean(data) {
				if v.Type == "volume" && v.Source != "" {
					if _, ok := p.Volumes[v.Source]; !ok {
						t.Errorf("service %s uses volume %q, which is not declared under top-level volumes", composeAppService, v.Source)
					}
				}
				return
			}
		}
		t.Errorf("COLEARN_DATA=%s is not a mounted volume of service %s: %+v", data, composeAppService, app.Volumes)
	})

	t.Run("ListenPortPublished", func(t *testing.T) {
		t.Parallel()
		port := composeListenPort(t, composeEnvValue(t, app, composeAppService, "COLEARN_LISTEN"))
		found := false
		for _, pp := range app.Ports {
			if pp.Target != port {
				continue
			}
			found = true
			if pp.Published == "" {
				t.Errorf("port %s is published on a random host port; publish it on a fixed one for the reverse proxy", port)
			}
			if ip := net.ParseIP(pp.HostIP); ip == nil || !ip.IsLoopback() {
				t.Errorf("port %s is published on host address %q; bind it to loopback, behind the TLS reverse proxy", port, pp.HostIP)
			}
		}
		if !found {
			t.Errorf("COLEARN_LISTEN port %s is not the container port of any published port: %+v", port, app.Ports)
		}
	})

	t.Run("DatabaseURLMatchesDB", func(t *testing.T) {
		t.Parallel()
		for _, env := range []map[string]string{composeMinimalEnv, composeOverrideEnv} {
			p := composeLoad(t, env)
			db, app := p.Services[composeDBService], p.Services[composeAppService]
			raw := composeEnvValue(t, app, composeAppService, "DATABASE_URL")
			u, err := url.Parse(raw)
			if err != nil {
				t.Fatalf("DATABASE_URL %q does not parse: %v", raw, err)
			}
			if u.Scheme != "postgres" && u.Scheme != "postgresql" {
				t.Errorf("DATABASE_URL scheme = %q, want postgres", u.Scheme)
			}
			if u.Hostname() != composeDBService {
				t.Errorf("DATABASE_URL host = %q, want the db service name %q", u.Hostname(), composeDBService)
			}
			if port := u.Port(); port != "" && port != "5432" {
				t.Errorf("DATABASE_URL port = %q, want 5432", port)
			}
			wantUser := composeEnvValue(t, db, composeDBService, "POSTGRES_USER")
			wantPass := composeEnvValue(t, db, composeDBService, "POSTGRES_PASSWORD")
			wantDB := composeEnvValue(t, db, composeDBService, "POSTGRES_DB")
			gotPass, _ := u.User.Password()
			if u.User.Username() != wantUser {
				t.Errorf("with %v: DATABASE_URL user = %q, db POSTGRES_USER = %q", env, u.User.Username(), wantUser)
			}
			if gotPass != wantPass {
				t.Errorf("with %v: DATABASE_URL password = %q, db POSTGRES_PASSWORD = %q", env, gotPass, wantPass)
			}
			if got := strings.TrimPrefix(u.Path, "/"); got != wantDB {
				t.Errorf("with %v: DATABASE_URL database = %q, db POSTGRES_DB = %q", env, got, wantDB)
			}
		}
	})

	t.Run("RequiredVariables", func(t *testing.T) {
		t.Parallel()
		// Without COLEARN_HOST or POSTGRES_PASSWORD compose must refuse to
		// start rather than run with an empty host or password.
		for _, missing := range []string{"COLEARN_HOST", "POSTGRES_PASSWORD"} {
			env := map[string]string{}
			for k, v := range composeMinimalEnv {
				if k != missing {
					env[k] = v
				}
			}
			raw, err := os.ReadFile(composeTestFile)
			if err != nil {
				t.Fatal(err)
			}
			var doc yaml.Node
			if err := yaml.Unmarshal(raw, &doc); err != nil {
				t.Fatal(err)
			}
			if err := composeInterpolateNode(&doc, env); err == nil {
				t.Errorf("compose file interpolates without %s; make it required with ${%s:?...}", missing, missing)
			}
		}
	})

	t.Run("DockerfileExposesListenPort", func(t *testing.T) {
		t.Parallel()
		port := composeListenPort(t, composeEnvValue(t, app, composeAppService, "COLEARN_LISTEN"))
		final := composeDockerfileFinalStage(t)
		for _, ins := range final {
			if ins.cmd != "EXPOSE" {
				continue
			}
			for _, f := range strings.Fields(ins.args) {
				if p, _, _ := strings.Cut(f, "/"); p == port {
					return
				}
			}
		}
		t.Errorf("Dockerfile does not EXPOSE the COLEARN_LISTEN port %s", port)
	})
}

type composeDockerInstr struct {
	cmd  string // upper-cased instruction
	args string
}

// composeDockerfile returns the Dockerfile's instructions, with comments
// dropped and line continuations joined.
func composeDockerfile(t *testing.T) []composeDockerInstr {
	t.Helper()
	f, err := os.Open(composeTestDocker)
	if err != nil {
		t.Fatalf("Dockerfile: %v", err)
	}
	defer f.Close()
	var out []composeDockerInstr
	var cur strings.Builder
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") || (line == "" && cur.Len() == 0) {
			continue
		}
		if cont, ok := strings.CutSuffix(line, `\`); ok {
			cur.WriteString(cont + " ")
			continue
		}
		cur.WriteString(line)
		cmd, args, _ := strings.Cut(strings.TrimSpace(cur.String()), " ")
		out = append(out, composeDockerInstr{strings.ToUpper(cmd), strings.TrimSpace(args)})
		cur.Reset()
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func composeDockerfileFinalStage(t *testing.T) []composeDockerInstr {
	t.Helper()
	all := composeDockerfile(t)
	last := -1
	for i, ins := range all {
		if ins.cmd == "FROM" {
			last = i
		}
	}
	if last < 0 {
		t.Fatalf("Dockerfile has no FROM")
	}
	return all[last:]
}

func TestComposeDockerfile(t *testing.T) {
	t.Parallel()
	if abs, err := filepath.Abs(composeTestDocker); err == nil {
		t.Logf("checking %s", abs)
	}
	all := composeDockerfile(t)
	final := composeDockerfileFinalStage(t)

	t.Run("BuildsCmdColearn", func(t *testing.T) {
		t.Parallel()
		for _, ins := range all {
			if ins.cmd == "RUN" && strings.Contains(ins.args, "go build") && strings.Contains(ins.args, "./cmd/colearn") {
				return
			}
		}
		t.Errorf("no RUN instruction runs `go build ... ./cmd/colearn`")
	})

	t.Run("NonRootUser", func(t *testing.T) {
		t.Parallel()
		user := ""
		for _, ins := range final {
			if ins.cmd == "USER" {
				user = ins.args
			}
		}
		name, _, _ := strings.Cut(user, ":")
		if name == "" || name == "root" || name == "0" {
			t.Errorf("final stage runs as %q; add a USER instruction with a non-root user", user)
		}
	})

	t.Run("EntrypointIsColearn", func(t *testing.T) {
		t.Parallel()
		for _, ins := range final {
			if ins.cmd == "ENTRYPOINT" && strings.Contains(ins.args, "colearn") {
				return
			}
		}
		t.Errorf("final stage has no ENTRYPOINT running colearn")
	})
}
