"""What every command-line test needs: run ``cnnlab`` in-process, and check a one-line error."""

from cnnlab.cli import main


def run_cli(capsys, *argv):
    """Run ``cnnlab *argv``; return (exit status, stdout, stderr)."""
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(code, err, *fragments):
    """Exit status 1 and exactly one line on stderr, no traceback, containing every fragment."""
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
