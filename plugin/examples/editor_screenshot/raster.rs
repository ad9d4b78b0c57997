//! A tiny CPU rasterizer for egui's tessellated meshes: barycentric fill, bilinear
//! texture sampling and premultiplied alpha blending in gamma space, as egui expects.

use std::collections::HashMap;

use egui::{epaint::Primitive, ClippedPrimitive, ColorImage, ImageData, TextureId, TexturesDelta};

/// Textures by id, kept up to date from each frame's deltas.
#[derive(Default)]
pub struct Textures {
    images: HashMap<TextureId, ColorImage>,
}

impl Textures {
    /// Applies `delta`'s uploads (whole or partial) and frees.
    pub fn apply(&mut self, delta: &TexturesDelta) {
        for (id, deltas) in &delta.set {
            for d in deltas {
                let ImageData::Color(src) = &d.image;
                match d.pos {
                    None => {
                        self.images.insert(*id, ColorImage::clone(src));
                    }
                    Some([x0, y0]) => {
                        let dst = self
                            .images
                            .get_mut(id)
                            .expect("partial update of a known texture");
                        for y in 0..src.size[1] {
                            for x in 0..src.size[0] {
                                dst[(x0 + x, y0 + y)] = src[(x, y)];
                            }
                        }
                    }
                }
            }
        }
        for id in &delta.free {
            self.images.remove(id);
        }
    }

    fn sample(&self, id: TextureId, u: f32, v: f32) -> [f32; 4] {
        let Some(img) = self.images.get(&id) else {
            return [255.0; 4];
        };
        let [w, h] = img.size;
        let x = (u * w as f32 - 0.5).clamp(0.0, (w - 1) as f32);
        let y = (v * h as f32 - 0.5).clamp(0.0, (h - 1) as f32);
        let (x0, y0) = (x.floor() as usize, y.floor() as usize);
        let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
        let (fx, fy) = (x - x0 as f32, y - y0 as f32);
        let px = |x, y| img[(x, y)].to_array().map(f32::from);
        let (a, b, c, d) = (px(x0, y0), px(x1, y0), px(x0, y1), px(x1, y1));
        std::array::from_fn(|i| {
            let top = a[i] + (b[i] - a[i]) * fx;
            let bottom = c[i] + (d[i] - c[i]) * fx;
            top + (bottom - top) * fy
        })
    }
}

/// An RGBA image of `width` x `height` pixels filled with `background`.
pub struct Canvas {
    /// Width in pixels.
    pub width: usize,
    /// Height in pixels.
    pub height: usize,
    /// Premultiplied RGBA, row by row.
    pub rgba: Vec<u8>,
}

impl Canvas {
    /// A canvas of one colour.
    pub fn new(width: usize, height: usize, background: egui::Color32) -> Self {
        let px = background.to_array();
        Self {
            width,
            height,
            rgba: px
                .iter()
                .copied()
                .cycle()
                .take(width * height * 4)
                .collect(),
        }
    }

    /// Draws `primitives` (positions in points) at `pixels_per_point`.
    pub fn draw(&mut self, primitives: &[ClippedPrimitive], textures: &Textures, ppp: f32) {
        for p in primitives {
            let Primitive::Mesh(mesh) = &p.primitive else {
                continue;
            };
            let clip = [
                (p.clip_rect.min.x * ppp).max(0.0) as usize,
                (p.clip_rect.min.y * ppp).max(0.0) as usize,
                ((p.clip_rect.max.x * ppp).ceil().max(0.0) as usize).min(self.width),
                ((p.clip_rect.max.y * ppp).ceil().max(0.0) as usize).min(self.height),
            ];
            for tri in mesh.indices.chunks_exact(3) {
                let v = [0, 1, 2].map(|k| mesh.vertices[tri[k] as usize]);
                self.triangle(&v, mesh.texture_id, textures, ppp, clip);
            }
        }
    }

    fn triangle(
        &mut self,
        v: &[egui::epaint::Vertex; 3],
        tex: TextureId,
        textures: &Textures,
        ppp: f32,
        clip: [usize; 4],
    ) {
        let p = v.map(|v| (v.pos.x * ppp, v.pos.y * ppp));
        let area = (p[1].0 - p[0].0) * (p[2].1 - p[0].1) - (p[2].0 - p[0].0) * (p[1].1 - p[0].1);
        if area.abs() < 1e-6 {
            return;
        }
        let lo = |i: usize| {
            p.iter()
                .map(|q| if i == 0 { q.0 } else { q.1 })
                .fold(f32::MAX, f32::min)
        };
        let hi = |i: usize| {
            p.iter()
                .map(|q| if i == 0 { q.0 } else { q.1 })
                .fold(f32::MIN, f32::max)
        };
        let x0 = (lo(0).floor().max(0.0) as usize).max(clip[0]);
        let y0 = (lo(1).floor().max(0.0) as usize).max(clip[1]);
        let x1 = (hi(0).ceil().max(0.0) as usize).min(clip[2]);
        let y1 = (hi(1).ceil().max(0.0) as usize).min(clip[3]);
        let colours = v.map(|v| v.color.to_array().map(f32::from));
        for y in y0..y1 {
            for x in x0..x1 {
                let (px, py) = (x as f32 + 0.5, y as f32 + 0.5);
                let edge = |a: (f32, f32), b: (f32, f32)| {
                    ((b.0 - a.0) * (py - a.1) - (b.1 - a.1) * (px - a.0)) / area
                };
                let w = [edge(p[1], p[2]), edge(p[2], p[0]), edge(p[0], p[1])];
                if w.iter().any(|&w| w < 0.0) {
                    continue;
                }
                let u = w[0] * v[0].uv.x + w[1] * v[1].uv.x + w[2] * v[2].uv.x;
                let t = w[0] * v[0].uv.y + w[1] * v[1].uv.y + w[2] * v[2].uv.y;
                let texel = textures.sample(tex, u, t);
                let i = (y * self.width + x) * 4;
                let src: [f32; 4] = std::array::from_fn(|c| {
                    let colour = w[0] * colours[0][c] + w[1] * colours[1][c] + w[2] * colours[2][c];
                    colour * texel[c] / 255.0
                });
                let keep = 1.0 - src[3] / 255.0;
                for (d, s) in self.rgba[i..i + 4].iter_mut().zip(src) {
                    *d = (s + f32::from(*d) * keep).round().clamp(0.0, 255.0) as u8;
                }
            }
        }
    }

    /// Writes the canvas as an 8-bit RGBA PNG.
    pub fn write_png(&self, path: &std::path::Path) -> std::io::Result<()> {
        let file = std::io::BufWriter::new(std::fs::File::create(path)?);
        let mut enc = png::Encoder::new(file, self.width as u32, self.height as u32);
        enc.set_color(png::ColorType::Rgba);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header().map_err(std::io::Error::other)?;
        writer
            .write_image_data(&self.rgba)
            .map_err(std::io::Error::other)
    }
}
