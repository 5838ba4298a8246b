"""State dicts that PyTorch's load_state_dict accepts, saved the ways people save them (issue #27, defect 8), and hostile ones
(defect 2): tests/TorchLabs.Tests/Golden/pth/*.pth with expected.json. Run with Debian's python3-torch:

    /usr/bin/python3 scripts/golden/pth_variants.py

The model is nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2)) (keys 0.weight, 0.bias, 2.weight, 2.bias), seeded.
"""
import io, json, os, pickle, zipfile
import torch

out = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "TorchLabs.Tests", "Golden", "pth")
os.makedirs(out, exist_ok=True)
torch.manual_seed(27)
net = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
sd = net.state_dict()
expected = {k: v.flatten().tolist() for k, v in sd.items()}


def save(name, obj, **kw):
    torch.save(obj, os.path.join(out, name), **kw)


save("plain.pth", sd)
# A transposed weight: stride (1, 3), not contiguous.
t = dict(sd)
t["0.weight"] = sd["0.weight"].t().contiguous().t()
assert not t["0.weight"].is_contiguous()
save("transposed.pth", t)
# A stride-0 bias (expand) and its expected values.
s = dict(sd)
s["0.bias"] = sd["0.bias"][:1].expand(3)
assert s["0.bias"].stride() == (0,)
save("stride0.pth", s)
expected_stride0 = dict(expected, **{"0.bias": s["0.bias"].tolist()})
# Every tensor a view into one larger storage, at its offset (as after torch.cat of parameters).
flat = torch.cat([v.flatten() for v in sd.values()] + [torch.zeros(5)])
views, at = {}, 0
for k, v in sd.items():
    views[k] = flat[at:at + v.numel()].view(v.shape)
    at += v.numel()
save("views.pth", views)
# The pre-1.6 format.
save("legacy.pth", sd, _use_new_zipfile_serialization=False)
# The common checkpoint dict, with an optimizer's state after one step.
opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
net(torch.ones(2, 4)).sum().backward()
opt.step()
net.load_state_dict({k: v.clone() for k, v in zip(sd.keys(), [torch.tensor(expected[k]).view(sd[k].shape) for k in sd])})
save("checkpoint.pth", {"model_state_dict": net.state_dict(), "optimizer_state_dict": opt.state_dict(), "epoch": 3, "loss": 0.25})
save("no-state-dict.pth", {"epoch": 3, "loss": 0.25, "note": "weights elsewhere"})

# A deflate bomb: the state dict's 0.weight a view of a storage of 2^22 float32 zeros (16 MiB), the zip entries re-compressed
# with deflate so the file stays small.
big = torch.zeros(1 << 22)
b = dict(sd)
b["0.weight"] = big[:12].view(3, 4)
buf = io.BytesIO()
torch.save(b, buf)
with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as src, zipfile.ZipFile(os.path.join(out, "deflate-bomb.pth"), "w",
                                                                          zipfile.ZIP_DEFLATED) as dst:
    for info in src.infolist():
        dst.writestr(info.filename, src.read(info.filename))


# A pickle that would run a command if unpickled with pickle.load: os.system through REDUCE inside the state dict.
class Evil:
    def __reduce__(self):
        return (os.system, ("touch /tmp/torchlabs-pwned",))


e = dict(sd)
e["0.bias"] = Evil()
buf = io.BytesIO()
torch.save(e, buf)
with open(os.path.join(out, "os-system.pth"), "wb") as f:
    f.write(buf.getvalue())

with open(os.path.join(out, "expected.json"), "w") as f:
    json.dump({"torch": torch.__version__, "plain": expected, "stride0": expected_stride0}, f, indent=1)
for name in sorted(os.listdir(out)):
    print(name, os.path.getsize(os.path.join(out, name)))
