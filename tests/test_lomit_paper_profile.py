"""LOMIT's paper profile up to data loading, on a fake CelebA layout."""

from test_lomit_train import fake_celeba


def test_paper_profile_data_notebook_on_fake_celeba(tmp_path):
    """The paper profile runs up to data loading: 01_data on a fake CelebA layout."""
    import papermill
    import yaml

    from maskstyle.workbook import repo_root

    root = fake_celeba(tmp_path / "celeba", n=6)
    paper = yaml.safe_load((repo_root() / "notebooks/lomit/paper.yaml").read_text())
    config = {**paper["parameters"]["train_config"], "data_root": str(root)}
    out = tmp_path / "out"
    papermill.execute_notebook(
        str(repo_root() / "notebooks/lomit/01_data.ipynb"), str(tmp_path / "executed.ipynb"),
        parameters={"profile": "paper", "output_dir": str(out), "train_config": config},
        cwd=str(repo_root() / "notebooks/lomit"), progress_bar=False)
    assert (out / "faces.png").exists() and not (out / "true_regions.png").exists()
