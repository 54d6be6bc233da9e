"""compose.yaml cannot be run here (no Docker engine); its invariants are checked instead."""

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
REQUIRED = {"db", "redis", "web", "worker-embed", "worker-llm", "beat", "vllm", "nginx"}


def compose() -> dict:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def test_every_service_of_the_stack_is_defined():
    assert REQUIRED <= set(compose()["services"])


def test_only_nginx_publishes_a_port():
    published = {name for name, svc in compose()["services"].items() if svc.get("ports")}
    assert published == {"nginx"}


def test_images_are_pinned_never_latest():
    for name, svc in compose()["services"].items():
        image = svc.get("image", "")
        assert image and ":" in image, f"{name} has no pinned image"
        assert not image.endswith(":latest"), f"{name} uses a latest tag"


def test_every_service_has_a_healthcheck():
    for name, svc in compose()["services"].items():
        if svc.get("restart") == "no":  # a one-shot job (migrate): it exits, with a status
            continue
        assert svc.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"


def test_gpu_services_reserve_a_gpu_and_models_mount_read_only():
    services = compose()["services"]
    for name in ("vllm", "worker-embed"):
        devices = services[name]["deploy"]["resources"]["reservations"]["devices"]
        assert devices[0]["capabilities"] == ["gpu"]
    assert all(v.endswith(":ro") for v in services["vllm"]["volumes"])
    assert "--model" in services["vllm"]["command"] and "/models/instruct" in services["vllm"]["command"]


def test_services_share_one_internal_network():
    for name, svc in compose()["services"].items():
        assert svc.get("networks") == ["internal"], name


APP_SERVICES = ("web", "worker-embed", "worker-llm", "beat")


def test_app_services_keep_the_shared_environment():
    """A service that sets its own `environment:` replaces the anchor's mapping (YAML merge is
    shallow): each must still reach the database, the broker and stay in production mode."""
    services = compose()["services"]
    for name in APP_SERVICES:
        env = services[name]["environment"]
        assert env["CLINSUM_PRODUCTION"] == "true" and env["DATABASE_URL"].startswith("postgres://"), name
        assert env["REDIS_URL"].startswith("redis://") and env["HF_HUB_OFFLINE"] == "1", name
        assert "web" in env["CLINSUM_INTERNAL_HOSTS"].split(","), name


def test_web_merges_metrics_across_gunicorn_workers():
    web = compose()["services"]["web"]
    directory = web["environment"]["PROMETHEUS_MULTIPROC_DIR"]
    assert any(mount.startswith(directory + ":") for mount in web["tmpfs"])
    assert "deploy/gunicorn.conf.py" in web["command"] and (ROOT / "deploy" / "gunicorn.conf.py").is_file()
    assert "/healthz" in " ".join(web["healthcheck"]["test"])


def test_the_app_runs_as_the_app_role_and_only_migrate_holds_the_owner():
    """clinsum/db: the services that serve users connect as clinsum_app; the owner's URL is in the
    one-shot migrate service only, which finishes before any of them starts."""
    services = compose()["services"]
    for name in APP_SERVICES:
        env = services[name]["environment"]
        assert env["DATABASE_URL"].startswith("postgres://clinsum_app:"), name
        assert "DATABASE_OWNER_URL" not in env, name
        assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}, name
    migrate = services["migrate"]
    assert migrate["environment"]["DATABASE_OWNER_URL"].startswith("postgres://clinsum_owner:")
    assert migrate["command"][-2:] == ["migrate", "--noinput"]
    db = services["db"]
    assert db["environment"]["POSTGRES_USER"] != "clinsum_app"
    init = [v for v in db["volumes"] if "/docker-entrypoint-initdb.d/" in v]
    assert init and init[0].startswith("./deploy/db-init.sh:")
    script = (ROOT / "deploy" / "db-init.sh").read_text()
    assert "CREATE ROLE clinsum_app LOGIN NOSUPERUSER" in script and "OWNER clinsum_owner" in script


def test_audit_checkpoints_go_to_a_mounted_directory():
    services = compose()["services"]
    path = services["worker-llm"]["environment"]["AUDIT_CHECKPOINT_DIR"]
    assert any(v.endswith(":" + path) for v in services["worker-llm"]["volumes"])  # the task runs there
    assert any(v.endswith(":" + path + ":ro") for v in services["web"]["volumes"])  # audit_verify reads it


def test_db_volume_is_where_postgresql_18s_image_keeps_its_data():
    """From PostgreSQL 18 the official image keeps its data in /var/lib/postgresql/<major>/docker
    and refuses to start with a volume at /var/lib/postgresql/data: the volume goes one level up,
    and is named for the major, so an older major's volume is never opened by it."""
    db = compose()["services"]["db"]
    major = int(db["image"].rsplit("-pg", 1)[1].split("-")[0])
    data = [v for v in db["volumes"] if v.split(":")[1].startswith("/var/lib/postgresql")]
    assert major >= 18 and data == [f"pgdata{major}:/var/lib/postgresql"]
    assert f"pgdata{major}" in compose()["volumes"]
