//! The files operators deploy with (`deploy/`) and `portal-sso healthcheck`, which the
//! container image's health check runs: each example is checked against the sidecar it
//! describes, so a changed port, path or drain time cannot leave them disagreeing.

use crate::support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use yaml_rust2::{Yaml, YamlLoader};

use support::{BIN, KUSTOMER_SECRET, Sidecar, TempDir, config, free_addr, run_cli};

/// A file of the repository, by its path from the root.
fn repo_file(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path)
}

fn read(path: &str) -> String {
    std::fs::read_to_string(repo_file(path)).unwrap_or_else(|err| panic!("{path}: {err}"))
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Runs `portal-sso healthcheck ARGS`, asserting that it exits 1 with one line saying
/// why; returns that line.
fn unhealthy(args: &[&str]) -> String {
    let output = run_cli(&[&["healthcheck"], args].concat(), &[]);
    let why = stderr(&output);
    assert_eq!(output.status.code(), Some(1), "{why}");
    assert_eq!(why.lines().count(), 1, "one line: {why}");
    assert!(why.starts_with("portal-sso healthcheck: "), "{why}");
    why
}

/// The tests' usual config with `admin_line` in place of its `admin_listen` line.
fn config_with(admin_line: &str) -> String {
    let app = "http://127.0.0.1:3000";
    config(app, &format!("{app}/api/me"), "", "")
        .replace("admin_listen = \"127.0.0.1:0\"", admin_line)
}

#[test]
fn healthcheck_passes_against_a_running_sidecar() {
    // 0.0.0.0 in the config is asked on loopback, as in a container.
    let port = free_addr().port();
    let text = config_with(&format!("admin_listen = \"0.0.0.0:{port}\""));
    let sidecar = Sidecar::start(&text);
    assert_eq!(sidecar.admin.map(|a| a.port()), Some(port));
    let dir = TempDir::new();
    let path = dir.write("portal-sso.toml", &text);

    let output = run_cli(&["healthcheck", "--config", path.to_str().unwrap()], &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(output.stdout.is_empty());

    // The config path can come from the environment, as for `serve`.
    let output = Command::new(BIN)
        .arg("healthcheck")
        .env("PORTAL_SSO_CONFIG", &path)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));

    let url = format!("http://127.0.0.1:{port}/healthz");
    let output = run_cli(&["healthcheck", "--url", &url], &[]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));

    // Anything but a 200 is unhealthy, with the status said.
    let why = unhealthy(&["--url", &format!("http://127.0.0.1:{port}/nothing-here")]);
    assert!(why.contains("answered 404 Not Found"), "{why}");
}

#[test]
fn healthcheck_says_connection_refused_when_nothing_listens() {
    let admin = free_addr();
    let dir = TempDir::new();
    // The secrets are neither in the environment nor on disk: only admin_listen is read.
    let text = config_with(&format!("admin_listen = \"{admin}\""));
    let path = dir.write("portal-sso.toml", &text);
    let why = unhealthy(&["--config", path.to_str().unwrap()]);
    assert!(why.contains("connection refused"), "{why}");
    assert!(why.contains(&format!("http://{admin}/healthz")), "{why}");
}

#[test]
fn healthcheck_gives_up_on_a_listener_that_never_answers() {
    // The kernel completes the handshake for a listener that never accepts.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/healthz", listener.local_addr().unwrap());
    let started = Instant::now();
    let why = unhealthy(&["--url", &url, "--timeout-secs", "1"]);
    assert!(why.contains("no answer within 1 s"), "{why}");
    assert!(started.elapsed() < Duration::from_secs(10));
    drop(listener);
}

#[test]
fn healthcheck_refuses_a_config_without_admin_listen() {
    let dir = TempDir::new();
    let text = config_with("");
    let path = dir.write("portal-sso.toml", &text);
    let why = unhealthy(&["--config", path.to_str().unwrap()]);
    assert!(why.contains("has no admin_listen"), "{why}");

    let path = dir.write("bad.toml", "admin_listen = \"nowhere\"\n");
    let why = unhealthy(&["--config", path.to_str().unwrap()]);
    assert!(why.contains("config error: admin_listen:"), "{why}");

    let why = unhealthy(&[]);
    assert!(why.contains("give --config FILE"), "{why}");

    let why = unhealthy(&["--url", "https://127.0.0.1:9901/healthz"]);
    assert!(why.contains("give an http:// URL"), "{why}");
}

/// Every `{ file = "..." }` secret reference in a config, in file order.
fn secret_files(config: &str) -> Vec<String> {
    fn walk(value: &toml::Value, found: &mut Vec<String>) {
        match value {
            toml::Value::Table(table) => {
                if let (1, Some(toml::Value::String(path))) = (table.len(), table.get("file")) {
                    found.push(path.clone());
                }
                table.values().for_each(|v| walk(v, found));
            }
            toml::Value::Array(items) => items.iter().for_each(|v| walk(v, found)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    walk(&config.parse::<toml::Table>().unwrap().into(), &mut found);
    found
}

/// The port of a top-level address in a config.
fn port_of(config: &toml::Table, key: &str) -> i64 {
    let addr: std::net::SocketAddr = config[key].as_str().unwrap().parse().unwrap();
    i64::from(addr.port())
}

fn shutdown_grace_secs(config: &toml::Table) -> i64 {
    config["server"]["shutdown_grace_secs"]
        .as_integer()
        .unwrap()
}

/// Runs `check-config` on `config` with the secrets under `secret_dir` written to a temp
/// dir instead (each a test secret), and asserts it passes.
fn assert_check_config_passes(config: &str, secret_dir: &str) {
    let files = secret_files(config);
    assert!(
        !files.is_empty(),
        "the example reads its secrets from files"
    );
    let dir = TempDir::new();
    for file in &files {
        let name = file
            .strip_prefix(secret_dir)
            .unwrap_or_else(|| panic!("{file} is outside {secret_dir}"));
        dir.write(name, &format!("{KUSTOMER_SECRET}\n"));
    }
    let rewritten = config.replace(secret_dir, &format!("{}/", dir.0.display()));
    let path = dir.write("portal-sso.toml", &rewritten);
    let output = run_cli(&["check-config", "--config", path.to_str().unwrap()], &[]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stdout.contains("config OK"), "{stdout}");
    assert!(!stdout.contains(KUSTOMER_SECRET), "{stdout}");
}

// ---- systemd ----

const UNIT: &str = "deploy/systemd/portal-sso.service";

/// The values of `Key=` lines in the unit, in order.
fn unit_values<'a>(unit: &'a str, key: &str) -> Vec<&'a str> {
    unit.lines()
        .filter_map(|line| line.strip_prefix(key)?.strip_prefix('='))
        .collect()
}

#[test]
#[ignore = "needs systemd-analyze; CI runs it with --ignored"]
fn the_systemd_unit_passes_systemd_analyze_verify() {
    // verify checks that ExecStart's binary exists: the unit is checked as a copy that starts
    // the binary just built instead of /usr/local/bin/portal-sso.
    let unit = read(UNIT);
    assert!(unit.contains("\nExecStart=/usr/local/bin/portal-sso serve"));
    let dir = TempDir::new();
    let path = dir.write(
        "portal-sso.service",
        &unit.replace(
            "\nExecStart=/usr/local/bin/portal-sso ",
            &format!("\nExecStart={BIN} "),
        ),
    );
    let output = Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(&path)
        .output()
        .expect("systemd-analyze (Debian package systemd)");
    let warnings = stderr(&output);
    assert!(output.status.success(), "{warnings}");
    let about_the_unit: Vec<&str> = warnings
        .lines()
        .filter(|line| line.contains("portal-sso"))
        .collect();
    assert!(about_the_unit.is_empty(), "{warnings}");
}

#[test]
fn the_systemd_unit_and_its_config_agree() {
    let unit = read(UNIT);
    let config_text = read("deploy/systemd/portal-sso.toml");
    let config: toml::Table = config_text.parse().unwrap();

    let credentials_dir = "/run/credentials/portal-sso.service/";
    assert_check_config_passes(&config_text, credentials_dir);
    let loaded: BTreeSet<&str> = unit_values(&unit, "LoadCredential")
        .iter()
        .map(|spec| spec.split_once(':').unwrap().0)
        .collect();
    let files = secret_files(&config_text);
    let referred: BTreeSet<&str> = files
        .iter()
        .map(|file| file.strip_prefix(credentials_dir).unwrap())
        .collect();
    assert_eq!(
        loaded, referred,
        "LoadCredential= names vs the config's files"
    );

    let grace = shutdown_grace_secs(&config);
    let stop: i64 = unit_values(&unit, "TimeoutStopSec")[0].parse().unwrap();
    assert!(stop > grace, "TimeoutStopSec={stop} must exceed {grace}");
    assert_eq!(unit_values(&unit, "KillSignal"), ["SIGTERM"]);
    assert_eq!(
        unit_values(&unit, "ExecReload"),
        ["/bin/kill -HUP $MAINPID"]
    );
    assert_eq!(
        unit_values(&unit, "ExecStart"),
        ["/usr/local/bin/portal-sso serve --config /etc/portal-sso/portal-sso.toml"]
    );
    assert_eq!(unit_values(&unit, "CapabilityBoundingSet"), [""]);
}

// ---- Kubernetes ----

fn yaml(path: &str) -> Vec<Yaml> {
    YamlLoader::load_from_str(&read(path)).unwrap_or_else(|err| panic!("{path}: {err}"))
}

fn text<'a>(value: &'a Yaml, what: &str) -> &'a str {
    value
        .as_str()
        .unwrap_or_else(|| panic!("{what}: {value:?}"))
}

fn list<'a>(value: &'a Yaml, what: &str) -> &'a [Yaml] {
    value
        .as_vec()
        .unwrap_or_else(|| panic!("{what}: {value:?}"))
}

/// The strings of a YAML list.
fn strings(value: &Yaml) -> Vec<&str> {
    list(value, "a list")
        .iter()
        .filter_map(Yaml::as_str)
        .collect()
}

fn named<'a>(items: &'a Yaml, name: &str) -> &'a Yaml {
    list(items, name)
        .iter()
        .find(|item| item["name"].as_str() == Some(name))
        .unwrap_or_else(|| panic!("no item named {name}"))
}

/// A container port by number or by name.
fn resolve_port(container: &Yaml, port: &Yaml) -> i64 {
    port.as_i64().unwrap_or_else(|| {
        named(&container["ports"], text(port, "port"))["containerPort"]
            .as_i64()
            .unwrap()
    })
}

const KUBE: &str = "deploy/kubernetes";

/// The config path the Kubernetes example's sidecar container is started with (checked
/// against its `ConfigMap` mount below).
fn kubernetes_config_path() -> String {
    let deployment = &yaml(&format!("{KUBE}/deployment.yaml"))[0];
    let sidecar = named(
        &deployment["spec"]["template"]["spec"]["containers"],
        "portal-sso",
    );
    text(&sidecar["args"][2], "the --config argument").to_owned()
}

#[test]
fn the_kubernetes_config_passes_check_config() {
    let config = read(&format!("{KUBE}/portal-sso.toml"));
    assert_check_config_passes(&config, "/run/secrets/portal-sso/");
}

#[test]
fn the_kubernetes_manifests_match_the_config() {
    let kustomization = &yaml(&format!("{KUBE}/kustomization.yaml"))[0];
    let generator = named(&kustomization["configMapGenerator"], "portal-sso-config");
    let config_files = strings(&generator["files"]);
    assert_eq!(config_files, ["portal-sso.toml"]);
    let config_text = read(&format!("{KUBE}/portal-sso.toml"));
    let config: toml::Table = config_text.parse().unwrap();

    let documents: Vec<Yaml> = strings(&kustomization["resources"])
        .iter()
        .flat_map(|resource| yaml(&format!("{KUBE}/{resource}")))
        .collect();
    let of_kind = |kind: &str| {
        documents
            .iter()
            .find(|doc| doc["kind"].as_str() == Some(kind))
            .unwrap_or_else(|| panic!("no {kind} among the resources"))
    };
    let pod = &of_kind("Deployment")["spec"]["template"];
    let spec = &pod["spec"];
    let sidecar = named(&spec["containers"], "portal-sso");

    // The config file is where the container reads it, from the generated ConfigMap.
    let args = strings(&sidecar["args"]);
    assert_eq!(args[..2], ["serve", "--config"]);
    let (config_dir, config_name) = args[2].rsplit_once('/').unwrap();
    assert_eq!(config_name, config_files[0]);
    let mount = |name: &str| text(&named(&sidecar["volumeMounts"], name)["mountPath"], name);
    assert_eq!(mount("config"), config_dir);
    let config_volume = named(&spec["volumes"], "config");
    assert_eq!(
        config_volume["configMap"]["name"].as_str(),
        Some("portal-sso-config")
    );

    // Every secret the config reads is a file of the Secret volume.
    let secrets_dir = mount("secrets");
    assert!(
        named(&spec["volumes"], "secrets")["secret"]["secretName"]
            .as_str()
            .is_some()
    );
    for file in secret_files(&config_text) {
        assert_eq!(
            Path::new(&file).parent(),
            Some(Path::new(secrets_dir)),
            "{file}"
        );
    }

    // Probes on the admin port, the right path each; traffic on the listen port.
    let admin = port_of(&config, "admin_listen");
    for (probe, path) in [("readinessProbe", "/readyz"), ("livenessProbe", "/healthz")] {
        let get = &sidecar[probe]["httpGet"];
        assert_eq!(get["path"].as_str(), Some(path), "{probe}");
        assert_eq!(resolve_port(sidecar, &get["port"]), admin, "{probe}");
    }
    let listen = port_of(&config, "listen");
    assert_eq!(resolve_port(sidecar, &Yaml::String("http".into())), listen);
    let service = &of_kind("Service")["spec"];
    let target = &list(&service["ports"], "ports")[0]["targetPort"];
    assert_eq!(resolve_port(sidecar, target), listen);
    let labels = pod["metadata"]["labels"].as_hash().unwrap();
    for (key, value) in service["selector"].as_hash().unwrap() {
        assert_eq!(labels.get(key), Some(value), "the Service selects the pod");
    }
    // The admin port is on the pod's address: its metrics want the token. The replicas
    // share one cookie key.
    assert!(
        config.contains_key("admin_token"),
        "an open admin port without a token"
    );
    let replicas = of_kind("Deployment")["spec"]["replicas"]
        .as_i64()
        .unwrap_or(1);
    assert!(
        replicas == 1 || config.contains_key("cookie_key"),
        "{replicas} replicas without a shared cookie_key"
    );

    // The pod outlives the preStop pause plus the drain.
    let grace = shutdown_grace_secs(&config);
    let pause = sidecar["lifecycle"]["preStop"]["sleep"]["seconds"]
        .as_i64()
        .unwrap_or(0);
    let termination = spec["terminationGracePeriodSeconds"].as_i64().unwrap();
    assert!(
        termination > pause + grace,
        "{termination} <= {pause} + {grace}"
    );

    let security = &sidecar["securityContext"];
    assert_eq!(security["runAsNonRoot"].as_bool(), Some(true));
    assert_eq!(security["readOnlyRootFilesystem"].as_bool(), Some(true));
    assert_eq!(security["allowPrivilegeEscalation"].as_bool(), Some(false));
    assert_eq!(
        security["capabilities"]["drop"],
        Yaml::Array(vec![Yaml::String("ALL".into())])
    );
}

// ---- Dockerfile ----

/// The Dockerfile's instructions, continuation lines joined and comments dropped, as
/// (INSTRUCTION, arguments).
fn instructions(dockerfile: &str) -> Vec<(String, String)> {
    let mut joined = Vec::new();
    let mut current = String::new();
    for line in dockerfile.lines().map(str::trim) {
        if line.starts_with('#') || (line.is_empty() && current.is_empty()) {
            continue;
        }
        if let Some(part) = line.strip_suffix('\\') {
            current.push_str(part);
        } else {
            current.push_str(line);
            joined.push(std::mem::take(&mut current));
        }
    }
    joined
        .iter()
        .filter_map(|line| line.split_once(' '))
        .map(|(op, args)| (op.to_uppercase(), args.trim().to_owned()))
        .collect()
}

/// The exec form's words of `CMD [...]`-like arguments; panics on the shell form, which
/// an image without a shell cannot run.
fn exec_form(args: &str) -> Vec<String> {
    serde_json::from_str(args).unwrap_or_else(|_| panic!("not exec form: {args}"))
}

#[test]
fn the_dockerfile_checks_health_without_a_shell_as_a_non_root_user() {
    // The image is not built by the tests (the machines that run them cannot pull base
    // images), so this reads the Dockerfile's text: what it can check, it checks.
    let all = instructions(&read("deploy/Dockerfile"));
    let last_from = all.iter().rposition(|(op, _)| op == "FROM").unwrap();
    let (builder, last) = all.split_at(last_from);
    let find = |stage: &[(String, String)], op: &str| -> Vec<String> {
        stage
            .iter()
            .filter(|(o, _)| o == op)
            .map(|(_, a)| a.clone())
            .collect()
    };

    assert!(
        find(builder, "FROM")[0].ends_with(" AS builder"),
        "{builder:?}"
    );
    let build = find(builder, "RUN").join(" ");
    assert!(
        build.contains("cargo build -p portal-sso-sidecar --release --locked"),
        "{build}"
    );
    assert!(last[0].1.starts_with("gcr.io/distroless/"), "{:?}", last[0]);

    // The binary's path in the final image, copied from the builder's output.
    let copy = find(last, "COPY");
    let words: Vec<&str> = copy[0].split_whitespace().collect();
    assert_eq!(words[0], "--from=builder");
    assert!(build.contains(words[1]), "the builder writes {}", words[1]);
    let binary = words[2];

    let user = find(last, "USER");
    let user = user.last().expect("a USER");
    assert!(
        !["root", "0"].contains(&user.split(':').next().unwrap()),
        "USER {user}"
    );

    let healthcheck = find(last, "HEALTHCHECK");
    let (_, command) = healthcheck[0].split_once("CMD ").unwrap();
    let command = exec_form(command);
    assert_eq!(command[..2], [binary, "healthcheck"]);

    assert_eq!(exec_form(&find(last, "ENTRYPOINT")[0]), [binary]);
    let cmd = exec_form(&find(last, "CMD")[0]);
    assert_eq!(cmd[..2], ["serve", "--config"]);
    // Where the Kubernetes example mounts the config, which the health check reads too.
    assert_eq!(cmd[2], kubernetes_config_path());
    assert_eq!(command[2..4], ["--config", cmd[2].as_str()]);

    let ignored = read(".dockerignore");
    assert!(ignored.lines().any(|line| line == "target"), "{ignored}");
}
